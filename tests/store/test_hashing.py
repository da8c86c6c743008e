"""The canonical encoding: a fixed test vector for outside verifiers, and Python == SQL."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest

from store.event_store import EventStore
from store.hashing import (
    GENESIS_HASH,
    canonical_event_bytes,
    canonical_json,
    compute_hash,
    format_recorded_at,
    hash_of,
)
from tests.store.factories import new_event

FIRST = {
    "position": 1,
    "stream_id": "product-42",
    "stream_version": 1,
    "event_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
    "type": "ProductRegistered",
    "schema_version": 1,
    "data": {"name": "Zoë"},
    "metadata": {"actor": "pm@example.com"},
    "recorded_at": datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
}
FIRST_HASH = "55d7233cc5f914563b7b224908b34be0ccbf034f1de4c7a67e4316c3452af7e6"
SECOND = {
    **FIRST,
    "position": 2,
    "stream_version": 2,
    "event_id": uuid.UUID("00000000-0000-4000-8000-000000000002"),
    "type": "SignOffGiven",
    "data": {"score": 0.5, "decision": "approve"},
    "recorded_at": datetime(1, 1, 1, tzinfo=UTC),
}
SECOND_HASH = "e3f6829424029d15287cec200429ce8e23d66df58f2c52c493bfa97fd773278f"


def test_documented_test_vector() -> None:
    """Pinned bytes and hashes: changing the encoding breaks every stored chain."""
    assert canonical_event_bytes(prev_hash=GENESIS_HASH, **FIRST) == (  # type: ignore[arg-type]
        b"18:lifecycle.event.v1,1:1,10:product-42,1:1,"
        b"36:00000000-0000-4000-8000-000000000001,17:ProductRegistered,1:1,"
        b'15:{"name":"Zo\xc3\xab"},26:{"actor":"pm@example.com"},'
        b"27:2025-01-02T03:04:05.000006Z," + b"64:" + b"0" * 64 + b","
    )
    assert compute_hash(GENESIS_HASH, **FIRST) == FIRST_HASH  # type: ignore[arg-type]
    second = compute_hash(FIRST_HASH, **SECOND)  # type: ignore[arg-type]
    assert second == SECOND_HASH
    assert b"27:0001-01-01T00:00:00.000000Z," in canonical_event_bytes(
        prev_hash=FIRST_HASH,
        **SECOND,  # type: ignore[arg-type]
    )


def test_json_text_is_hashed_as_given() -> None:
    as_text = {**FIRST, "data": '{"name":"Zoë"}', "metadata": '{"actor":"pm@example.com"}'}
    assert compute_hash(GENESIS_HASH, **as_text) == FIRST_HASH  # type: ignore[arg-type]
    spaced = {**as_text, "data": '{"name": "Zoë"}'}
    assert compute_hash(GENESIS_HASH, **spaced) != FIRST_HASH  # type: ignore[arg-type]


def test_canonical_json_matches_the_standard_library() -> None:
    value = {"b": [1.5, 1e16, -0.0, None, True, 'é\u2028\x00"\\'], "a": {"z": 1, "y": 2**70}}
    expected = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    assert canonical_json(value) == expected
    assert json.loads(expected) == value
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": {1, 2}})
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(ValueError, match="refers to itself"):
        canonical_json(looped)


def test_timestamps_are_utc_microseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_recorded_at(datetime(2025, 6, 1, 2, 0, 0, 5, tzinfo=plus_two)) == (
        "2025-06-01T00:00:00.000005Z"
    )
    assert format_recorded_at(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone"):
        format_recorded_at(datetime(2025, 1, 1))


def _random_text(rng: random.Random) -> str:
    alphabet = "aZ9 -_.:,\"\\'\n\t\u00e9\u00df\u4e2d\u05d0\u200b\u2028\U0001f600\u0301"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


async def test_sql_and_python_hash_agree(app_pool: asyncpg.Pool) -> None:
    rng = random.Random(20250301)
    cases = []
    for i in range(200):
        data = canonical_json({_random_text(rng): [_random_text(rng), rng.random() * 10**i]})
        cases.append(
            (
                rng.randint(1, 2**62),
                _random_text(rng),
                rng.randint(1, 2**31 - 1),
                uuid.UUID(int=rng.getrandbits(128)),
                _random_text(rng),
                rng.randint(-(2**31), 2**31 - 1),
                data,
                canonical_json({"actor": _random_text(rng)}),
                datetime(1, 1, 1, tzinfo=UTC)
                + timedelta(microseconds=rng.randint(0, 315_537_897_599_999_999)),
                f"{rng.getrandbits(256):064x}",
            )
        )
    sql = "SELECT event_hash($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    async with app_pool.acquire() as conn:
        for case in cases:
            position, stream, version, event_id, type_, schema, data, meta, at, prev = case
            python = compute_hash(
                prev,
                position=position,
                stream_id=stream,
                stream_version=version,
                event_id=event_id,
                type=type_,
                schema_version=schema,
                data=data,
                metadata=meta,
                recorded_at=at,
            )
            assert await conn.fetchval(sql, *case) == python, case


async def test_stored_hashes_are_the_python_hashes(event_store: EventStore) -> None:
    """Both append paths (single event and batch) store what compute_hash gives."""
    await event_store.append("s", 0, [new_event(0, data={"π": 3.14159, "n": [2**64]})])
    await event_store.append("s", 1, [new_event(n) for n in range(1, 5)])
    events = await event_store.read_all()
    assert [hash_of(e) for e in events] == [e.hash for e in events]
