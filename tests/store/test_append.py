"""Appending and reading back: versions, positions, idempotent replays, refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from hashlib import sha256 as _sha256
from typing import Any

import asyncpg
import pytest

from store.errors import EventIdReused, InvalidEvent, StreamVersionConflict
from store.event_store import EventStore
from store.hashing import GENESIS_HASH, canonical_json
from tests.store.factories import T0, new_event, new_events


def sha256(data: bytes) -> bytes:
    return _sha256(data).digest()


async def test_first_append_starts_stream_and_log(event_store: EventStore) -> None:
    assert await event_store.head() == (0, GENESIS_HASH)
    assert await event_store.stream_version("product-1") == 0

    result = await event_store.append("product-1", 0, new_events(3))

    assert result.model_dump() == {
        "stream_id": "product-1",
        "first_position": 1,
        "last_position": 3,
        "stream_version": 3,
        "already_stored": False,
    }
    assert await event_store.stream_version("product-1") == 3
    events = await event_store.read_stream("product-1")
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.position for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert await event_store.head() == (3, events[-1].hash)


async def test_streams_interleave_in_one_global_log(event_store: EventStore) -> None:
    await event_store.append("a", 0, new_events(2))
    await event_store.append("b", 0, new_events(1, start=10))
    await event_store.append("a", 2, new_events(1, start=20))

    log = await event_store.read_all()
    assert [(e.position, e.stream_id, e.stream_version) for e in log] == [
        (1, "a", 1),
        (2, "a", 2),
        (3, "b", 1),
        (4, "a", 3),
    ]
    assert [e.stream_version for e in await event_store.read_stream("a", after_version=1)] == [
        2,
        3,
    ]
    assert await event_store.read_stream("nobody") == []


async def test_a_stream_read_by_type_holds_only_those_types_in_version_order(
    event_store: EventStore,
) -> None:
    kinds = ["StageEntered", "EvidenceSubmitted", "SignOffGiven", "EvidenceSubmitted"]
    kinds.append("StageEntered")
    await event_store.append("typed", 0, [new_event(n, type=kind) for n, kind in enumerate(kinds)])
    await event_store.append("other", 0, [new_event(9, type="StageEntered")])

    picked = await event_store.read_stream("typed", types={"StageEntered", "SignOffGiven"})
    later = await event_store.read_stream("typed", after_version=3, types=["StageEntered"])

    assert [(e.stream_version, e.type) for e in picked] == [
        (1, "StageEntered"),
        (3, "SignOffGiven"),
        (5, "StageEntered"),
    ]
    assert [e.stream_version for e in later] == [5]
    assert await event_store.read_stream("typed", types=[]) == []


async def test_read_all_pages_with_after_position_and_limit(event_store: EventStore) -> None:
    await event_store.append("s", 0, new_events(7))
    assert [e.position for e in await event_store.read_all(after_position=2, limit=3)] == [
        3,
        4,
        5,
    ]
    assert [e.position for e in await event_store.read_all(after_position=5)] == [6, 7]
    assert await event_store.read_all(after_position=7) == []
    with pytest.raises(ValueError, match="limit"):
        await event_store.read_all(limit=0)


async def test_round_trip_keeps_every_field_exactly(event_store: EventStore) -> None:
    data: dict[str, Any] = {
        "unicode": 'Zoë ✓ 漢字 😀 עברית e\u0301 \u2028 tab\t nul\u0000 quote" backslash\\',
        "nested": {"z": [1, {"deep": [None, True, False, []]}], "a": {}, "ключ": "значение"},
        "floats": [0.1, -0.0, 1e-300, 1.7976931348623157e308, 123456.789e3, 3.0],
        "ints": [0, -1, 2**53 + 1, -(2**63), 2**200],
        "empty": "",
    }
    metadata = {"actor": "gatekeeper@example.com", "correlation_id": str(uuid.uuid4())}
    at = datetime(2031, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    event = new_event(data=data, metadata=metadata, recorded_at=at, schema_version=7)

    await event_store.append("round-trip", 0, [event])
    (stored,) = await event_store.read_stream("round-trip")

    assert stored.event_id == event.event_id
    assert stored.type == event.type
    assert stored.schema_version == 7
    assert stored.data == data
    assert repr(stored.data["floats"]) == repr(data["floats"])  # -0.0 and 3.0 stay floats
    assert stored.data["ints"][-1] == 2**200
    assert stored.metadata == metadata
    assert stored.recorded_at == at
    assert stored.recorded_at.utcoffset() == timedelta(0)
    assert stored.recorded_at == datetime(2032, 1, 1, 4, 59, 59, 999999, tzinfo=UTC)
    assert (await event_store.read_all())[0] == stored


async def test_stale_expected_version_is_refused_and_writes_nothing(
    event_store: EventStore,
) -> None:
    await event_store.append("p", 0, new_events(2))

    with pytest.raises(StreamVersionConflict) as caught:
        await event_store.append("p", 1, new_events(1, start=5))
    assert caught.value.stream_id == "p"
    assert caught.value.expected_version == 1
    assert caught.value.actual_version == 2
    assert "'p'" in str(caught.value)
    assert "expected version 1" in str(caught.value)

    with pytest.raises(StreamVersionConflict):
        await event_store.append("p", 3, new_events(1, start=6))  # ahead is wrong too
    with pytest.raises(StreamVersionConflict):
        await event_store.append("new-stream", 1, new_events(1, start=7))
    assert await event_store.head() == (2, (await event_store.read_all())[-1].hash)


async def test_replay_after_lost_ack_returns_original_result(event_store: EventStore) -> None:
    batch = new_events(3)
    await event_store.append("other", 0, new_events(1, start=100))
    original = await event_store.append("p", 0, batch)
    await event_store.append("p", 3, new_events(2, start=10))  # the stream moved on

    replay = await event_store.append("p", 0, batch)  # stale expected version, same events

    assert replay.already_stored is True
    assert (replay.first_position, replay.last_position, replay.stream_version) == (
        original.first_position,
        original.last_position,
        original.stream_version,
    )
    assert len(await event_store.read_all()) == 6
    tail = await event_store.append("p", 5, [batch[2]])  # a replayed subset, current version
    assert tail.already_stored
    assert tail.first_position == tail.last_position == 4


async def test_replayed_batch_is_recognised_even_at_the_current_version(
    event_store: EventStore,
) -> None:
    """A batch whose ids are caught by the unique index (not the version check) is a replay."""
    batch = new_events(3)
    original = await event_store.append("p", 0, batch)
    again = await event_store.append("p", 3, batch)
    assert again.already_stored
    assert (again.first_position, again.last_position, again.stream_version) == (1, 3, 3)
    with pytest.raises(EventIdReused, match="different content"):
        await event_store.append("p", 3, [*batch[:2], batch[2].model_copy(update={"type": "X"})])
    with pytest.raises(EventIdReused, match="partly"):
        await event_store.append("p", 3, [new_event(9), batch[0]])
    assert original.last_position == (await event_store.head())[0] == 3


async def test_same_id_with_different_content_is_refused(event_store: EventStore) -> None:
    event = new_event(1)
    await event_store.append("p", 0, [event])
    changed = event.model_copy(update={"data": {"n": 2}})

    with pytest.raises(EventIdReused) as caught:
        await event_store.append("p", 0, [changed])
    assert caught.value.event_ids == (event.event_id,)
    assert str(event.event_id) in str(caught.value)

    for other in (
        event.model_copy(update={"type": "Other"}),
        event.model_copy(update={"schema_version": 2}),
        event.model_copy(update={"metadata": {"actor": "mallory"}}),
        event.model_copy(update={"recorded_at": event.recorded_at + timedelta(microseconds=1)}),
    ):
        with pytest.raises(EventIdReused):
            await event_store.append("p", 1, [other])
    with pytest.raises(EventIdReused):
        await event_store.append("elsewhere", 0, [event])  # same event, another stream
    assert len(await event_store.read_all()) == 1


async def test_partly_overlapping_batch_is_refused_and_writes_nothing(
    event_store: EventStore,
) -> None:
    stored = new_events(2)
    await event_store.append("p", 0, stored)
    fresh = new_event(50)

    with pytest.raises(EventIdReused) as caught:
        await event_store.append("p", 2, [*stored, fresh])
    assert set(caught.value.event_ids) == {e.event_id for e in stored}
    with pytest.raises(EventIdReused):
        await event_store.append("p", 2, [fresh, stored[1]])
    with pytest.raises(EventIdReused, match="order"):
        await event_store.append("p", 0, [stored[1], stored[0]])
    assert await event_store.stream_version("p") == 2
    assert fresh.event_id not in {e.event_id for e in await event_store.read_all()}


async def test_malformed_appends_are_refused_before_touching_the_database(
    event_store: EventStore,
) -> None:
    with pytest.raises(InvalidEvent):
        await event_store.append("p", 0, [])
    with pytest.raises(InvalidEvent):
        await event_store.append("", 0, new_events(1))
    with pytest.raises(InvalidEvent):
        await event_store.append("p", -1, new_events(1))
    event = new_event()
    with pytest.raises(EventIdReused, match="twice"):
        await event_store.append("p", 0, [event, event])
    for bad in ({"x": float("nan")}, {"x": float("inf")}, {"when": datetime.now(UTC)}):
        with pytest.raises(InvalidEvent):
            await event_store.append("p", 0, [new_event(data=bad)])
    with pytest.raises(InvalidEvent):
        await event_store.append("p", 0, [new_event(data={"x": "lone \ud800 surrogate"})])
    assert await event_store.head() == (0, GENESIS_HASH)


def test_new_event_requires_an_aware_timestamp_and_normalises_to_utc() -> None:
    with pytest.raises(ValueError, match="timezone"):
        new_event(recorded_at=datetime(2025, 1, 1))
    local = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert new_event(recorded_at=local).recorded_at == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert new_event(recorded_at=local).recorded_at.tzinfo is UTC


async def test_direct_calls_to_append_events_are_validated(
    event_store: EventStore, database_dsn: str
) -> None:
    """The SQL function is the security boundary, so it checks its own arguments."""
    conn = await asyncpg.connect(database_dsn)
    try:
        with pytest.raises(asyncpg.PostgresError, match="equally long"):
            await conn.fetchrow(
                "SELECT * FROM append_events('s', 0, $1, '{}', '{}', '{}', '{}', '{}', '{}')",
                [uuid.uuid4()],
            )
        async with conn.transaction(isolation="repeatable_read"):
            with pytest.raises(asyncpg.PostgresError, match="READ COMMITTED"):
                await conn.fetchrow(
                    "SELECT * FROM append_events('s', 0, $1, '{T}', '{1}', '{\"{}\"}',"
                    " '{\"{}\"}', ARRAY[now()], ARRAY[sha256('')])",
                    [uuid.uuid4()],
                )
        good = sha256(b"")
        for digests in ([b"short"], [b"x" * 33], [None], [good, None], [good, b"short"]):
            size = len(digests)
            with pytest.raises(asyncpg.PostgresError, match="32 bytes") as caught:
                await conn.fetchrow(
                    "SELECT * FROM append_events('s', 0, $1, $2, $3, $4, $5, $6, $7)",
                    [uuid.uuid4() for _ in range(size)],
                    ["T"] * size,
                    [1] * size,
                    ["{}"] * size,
                    ["{}"] * size,
                    [T0] * size,
                    digests,
                )
            assert caught.value.sqlstate == "LC003"
    finally:
        await conn.close()
    assert await event_store.head() == (0, GENESIS_HASH)


async def test_a_replay_must_carry_the_same_content_digest(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    """Idempotency compares the stored digest too, not only the fields."""
    event = new_event(1)
    await event_store.append("p", 0, [event])
    with pytest.raises(asyncpg.PostgresError, match="other content") as caught:
        await app_pool.fetchrow(
            "SELECT * FROM append_events('p', 0, $1, $2, $3, $4, $5, $6, $7)",
            [event.event_id],
            [event.type],
            [event.schema_version],
            [canonical_json(event.data)],
            [canonical_json(event.metadata)],
            [event.recorded_at],
            [sha256(b"not the digest of this event")],
        )
    assert caught.value.sqlstate == "LC002"
    assert len(await event_store.read_all()) == 1
