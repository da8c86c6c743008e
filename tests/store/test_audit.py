"""Tamper evidence: verify_chain recomputes the chain and names what changed, and where.

Tampering is done the only way it can be: as the owner, with the append-only triggers switched
off inside the test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from store.audit import verify_chain
from store.event_store import EventStore
from store.hashing import GENESIS_HASH, compute_hash
from tests.store.factories import new_events

LOG_SIZE = 30
_PARK = 1_000_000  # positions must stay positive (a CHECK), so rows are parked up high


@pytest_asyncio.fixture(loop_scope="session")
async def owner(database_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def filled(event_store: EventStore) -> EventStore:
    """30 events over three streams, appended in batches of various sizes."""
    versions = {"a": 0, "b": 0, "c": 0}
    written = 0
    for round_ in range(10):
        for stream in ("a", "b", "c"):
            size = (round_ + len(stream)) % 3 + 1
            size = min(size, LOG_SIZE - written)
            if size == 0:
                continue
            await event_store.append(stream, versions[stream], new_events(size, start=written))
            versions[stream] += size
            written += size
    assert written == LOG_SIZE
    return event_store


async def tamper(owner: asyncpg.Connection, *statements: str) -> None:
    async with owner.transaction():
        await owner.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        for statement in statements:
            await owner.execute(statement)
        await owner.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


def shift_positions(at_or_after: int, by: int) -> list[str]:
    """Statements moving rows >= at_or_after by ``by`` without tripping the primary key."""
    return [
        f"UPDATE events SET position = position + {_PARK} WHERE position >= {at_or_after}",
        f"UPDATE events SET position = position - {_PARK} + ({by}) WHERE position > {_PARK}",
    ]


async def forged_row(owner: asyncpg.Connection, position: int, prev_hash: str) -> str:
    """An INSERT of a plausible event at ``position`` whose hash is correctly computed."""
    event_id = uuid.uuid4()
    recorded_at = await owner.fetchval("SELECT now()")
    fields = {
        "position": position,
        "stream_id": "a",
        "stream_version": 99,
        "event_id": event_id,
        "type": "SignOffGiven",
        "schema_version": 1,
        "data": '{"forged":true}',
        "metadata": "{}",
        "recorded_at": recorded_at,
    }
    digest = compute_hash(prev_hash, **fields)  # type: ignore[arg-type]
    return (
        "INSERT INTO events VALUES "
        f"({position}, 'a', 99, '{event_id}', 'SignOffGiven', 1, '{{\"forged\":true}}', '{{}}', "
        f"'{recorded_at.isoformat()}', '{prev_hash}', '{digest}')"
    )


async def hash_at(owner: asyncpg.Connection, position: int) -> str:
    value = await owner.fetchval("SELECT hash FROM events WHERE position = $1", position)
    assert isinstance(value, str)
    return value


async def test_untouched_log_verifies(filled: EventStore, app_pool: asyncpg.Pool) -> None:
    head = await filled.head()
    result = await verify_chain(app_pool, batch_size=7)
    assert result.ok
    assert result.problem is None
    assert result.first_bad_position is None
    assert result.events_checked == LOG_SIZE
    assert (result.head_position, result.head_hash) == head
    assert await verify_chain(app_pool) == result
    async with app_pool.acquire() as conn:
        assert await verify_chain(conn, batch_size=1) == result
    assert (await verify_chain(app_pool, digest=head)).ok
    assert (await verify_chain(app_pool, digest=(5, await hash_at_app(app_pool, 5)))).ok


async def hash_at_app(pool: asyncpg.Pool, position: int) -> str:
    value = await pool.fetchval("SELECT hash FROM events WHERE position = $1", position)
    assert isinstance(value, str)
    return value


async def test_empty_log_verifies(app_pool: asyncpg.Pool) -> None:
    result = await verify_chain(app_pool)
    assert result.ok
    assert (result.events_checked, result.head_position, result.head_hash) == (0, 0, GENESIS_HASH)


async def test_edited_content_is_named(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, "UPDATE events SET data = '{\"n\":999}' WHERE position = 17")
    result = await verify_chain(app_pool, batch_size=5)
    assert not result.ok
    assert (result.problem, result.first_bad_position) == ("content edited", 17)
    assert result.head_position == 16
    assert result.events_checked == 17


@pytest.mark.parametrize(
    "column_change",
    [
        "stream_id = 'elsewhere'",
        "type = 'Other'",
        "schema_version = 2",
        'metadata = \'{"actor":"mallory"}\'',
        "recorded_at = recorded_at + interval '1 microsecond'",
        "stream_version = stream_version + 100",
        "event_id = gen_random_uuid()",
    ],
)
async def test_every_hashed_field_is_covered(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool, column_change: str
) -> None:
    await tamper(owner, f"UPDATE events SET {column_change} WHERE position = 9")
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("content edited", 9)


async def test_deleted_row_leaves_a_gap(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, "DELETE FROM events WHERE position = 12")
    result = await verify_chain(app_pool, batch_size=4)
    assert (result.problem, result.first_bad_position) == ("row deleted (gap)", 12)
    assert result.head_position == 11


async def test_deleted_row_is_found_even_when_positions_are_renumbered(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, "DELETE FROM events WHERE position = 12", *shift_positions(13, -1))
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("row deleted (gap)", 12)


async def test_inserted_row_with_a_correct_hash_is_named(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    insert = await forged_row(owner, 10, await hash_at(owner, 9))
    await tamper(owner, *shift_positions(10, 1), insert)
    result = await verify_chain(app_pool, batch_size=10)  # the culprit ends a batch
    assert (result.problem, result.first_bad_position) == ("row inserted", 10)
    assert result.head_position == 9


async def test_inserted_row_with_a_bogus_hash_is_named(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    insert = await forged_row(owner, 10, "f" * 64)
    await tamper(owner, *shift_positions(10, 1), insert)
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("row inserted", 10)


@pytest.mark.parametrize(("first", "second"), [(20, 21), (5, 9)])
async def test_swapped_rows_are_named(
    filled: EventStore,
    owner: asyncpg.Connection,
    app_pool: asyncpg.Pool,
    first: int,
    second: int,
) -> None:
    await tamper(
        owner,
        f"UPDATE events SET position = {_PARK} WHERE position = {first}",
        f"UPDATE events SET position = {first} WHERE position = {second}",
        f"UPDATE events SET position = {second} WHERE position = {_PARK}",
    )
    result = await verify_chain(app_pool, batch_size=3)
    assert (result.problem, result.first_bad_position) == ("rows reordered", first)


async def test_rewritten_link_breaks_the_chain(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, f"UPDATE events SET prev_hash = '{'a' * 64}' WHERE position = 8")
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("chain broken", 8)


async def test_edit_with_recomputed_hash_is_caught_at_the_next_link(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    row = await owner.fetchrow(
        "SELECT position, stream_id, stream_version, event_id, type, schema_version,"
        " metadata::text AS metadata, recorded_at, prev_hash FROM events WHERE position = 15"
    )
    assert row is not None
    fields = dict(row)
    prev_hash = fields.pop("prev_hash")
    new_hash = compute_hash(prev_hash, data='{"n":"edited"}', **fields)
    await tamper(
        owner,
        f"UPDATE events SET data = '{{\"n\":\"edited\"}}', hash = '{new_hash}' WHERE position = 15",
    )
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("chain broken", 16)
    assert result.detail is not None
    assert "15" in result.detail


async def test_digest_catches_truncation_and_wholesale_rewrites(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    digest = (20, await hash_at(owner, 20))

    # Rewrite history from position 3 on, recomputing every later hash: only a digest kept
    # elsewhere can tell.
    rows = await owner.fetch(
        "SELECT position, stream_id, stream_version, event_id, type, schema_version,"
        " data::text AS data, metadata::text AS metadata, recorded_at FROM events"
        " WHERE position >= 3 ORDER BY position"
    )
    prev = await hash_at(owner, 2)
    updates = []
    for row in rows:
        fields = dict(row)
        if fields["position"] == 3:
            fields["data"] = '{"n":"rewritten"}'
        new_hash = compute_hash(prev, **fields)
        updates.append(
            f"UPDATE events SET data = '{fields['data']}', prev_hash = '{prev}',"
            f" hash = '{new_hash}' WHERE position = {fields['position']}"
        )
        prev = new_hash
    await tamper(owner, *updates)
    assert (await verify_chain(app_pool)).ok  # self-consistent, as expected
    result = await verify_chain(app_pool, digest=digest)
    assert (result.problem, result.first_bad_position) == ("digest mismatch", 20)

    await tamper(owner, "DELETE FROM events WHERE position > 15")
    result = await verify_chain(app_pool, digest=(30, "0" * 64))
    assert (result.problem, result.first_bad_position) == ("digest mismatch", 30)
    assert result.head_position == 15
