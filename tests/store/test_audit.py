"""Tamper evidence: verify_chain recomputes the chain and names what changed, and where.

Tampering is done the only way it can be: as the owner, with the append-only triggers switched
off inside the test.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from store.audit import verify_chain
from store.event_store import EventStore
from store.hashing import GENESIS_HASH
from tests.store.factories import T0
from tests.store.tampering import (
    LOG_SIZE,
    PARK,
    ROW_QUERY,
    forged_row,
    hash_at,
    rehash,
    shift_positions,
    tamper,
)


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
        "content_digest = sha256('forged')",
        "hash = encode(sha256('forged'), 'hex')",
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
        f"UPDATE events SET position = {PARK} WHERE position = {first}",
        f"UPDATE events SET position = {first} WHERE position = {second}",
        f"UPDATE events SET position = {second} WHERE position = {PARK}",
    )
    result = await verify_chain(app_pool, batch_size=3)
    assert (result.problem, result.first_bad_position) == ("rows reordered", first)


async def test_rewritten_link_breaks_the_chain(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, f"UPDATE events SET prev_hash = '{'a' * 64}' WHERE position = 8")
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("chain broken", 8)


async def test_edit_with_recomputed_digest_is_caught_by_the_chain(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    """Re-digesting edited content is not enough: the hash seals the digest."""
    row = await owner.fetchrow(f"{ROW_QUERY} WHERE position = 15")
    assert row is not None
    _, digest = rehash(GENESIS_HASH, {**dict(row), "data": '{"n":"edited"}'})
    await tamper(
        owner,
        'UPDATE events SET data = \'{"n":"edited"}\','
        f" content_digest = '\\x{digest.hex()}' WHERE position = 15",
    )
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("content edited", 15)


async def test_edit_with_recomputed_hash_is_caught_at_the_next_link(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    row = await owner.fetchrow(f"{ROW_QUERY} WHERE position = 15")
    assert row is not None
    prev_hash = await hash_at(owner, 14)
    new_hash, digest = rehash(prev_hash, {**dict(row), "data": '{"n":"edited"}'})
    await tamper(
        owner,
        'UPDATE events SET data = \'{"n":"edited"}\','
        f" content_digest = '\\x{digest.hex()}', hash = '{new_hash}' WHERE position = 15",
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
    rows = await owner.fetch(f"{ROW_QUERY} WHERE position >= 3 ORDER BY position")
    prev = await hash_at(owner, 2)
    updates = []
    for row in rows:
        fields = dict(row)
        if fields["position"] == 3:
            fields["data"] = '{"n":"rewritten"}'
        new_hash, content = rehash(prev, fields)
        updates.append(
            f"UPDATE events SET data = '{fields['data']}', prev_hash = '{prev}',"
            f" hash = '{new_hash}', content_digest = '\\x{content.hex()}'"
            f" WHERE position = {fields['position']}"
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


async def test_an_event_appended_with_a_wrong_digest_fails_verification_at_its_position(
    filled: EventStore, app_pool: asyncpg.Pool
) -> None:
    """The database seals the digest a writer gives without recomputing it; a writer that lies
    (or has a bug) leaves an event that never verifies, named like an edit."""
    head = await filled.head()
    row = await app_pool.fetchrow(
        "SELECT * FROM append_events('d', 0, $1, '{T}', '{1}', '{\"{}\"}', '{\"{}\"}', $2,"
        " ARRAY[sha256('the digest of some other content')])",
        [uuid.uuid4()],
        [T0],
    )
    assert row is not None
    assert row["first_position"] == LOG_SIZE + 1
    result = await verify_chain(app_pool)
    assert (result.problem, result.first_bad_position) == ("content edited", LOG_SIZE + 1)
    assert result.detail is not None
    assert "wrong digest" in result.detail
    assert (result.head_position, result.head_hash) == head


async def test_verification_reports_its_progress_batch_by_batch(
    filled: EventStore, app_pool: asyncpg.Pool
) -> None:
    seen: list[tuple[int, int]] = []

    result = await verify_chain(app_pool, batch_size=7, progress=lambda *p: seen.append(p))

    assert result.ok
    assert seen[0] == (0, LOG_SIZE)
    assert seen[-1] == (LOG_SIZE, LOG_SIZE)
    assert len(seen) >= LOG_SIZE // 7
    assert [checked for checked, _ in seen] == sorted(checked for checked, _ in seen)


async def test_a_saved_digest_names_a_truncated_tail_even_though_the_rest_still_chains(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    saved = await verify_chain(app_pool)
    digest = (saved.head_position, saved.head_hash)

    await tamper(owner, f"DELETE FROM events WHERE position > {LOG_SIZE - 4}")
    alone = await verify_chain(app_pool)
    against = await verify_chain(app_pool, digest=digest)

    assert alone.ok  # what is left is a consistent chain: only the digest remembers more
    assert (against.problem, against.first_bad_position) == ("digest mismatch", LOG_SIZE)
    assert against.head_position == LOG_SIZE - 4
    assert against.detail is not None
    assert "removed from its end" in against.detail
