"""Verification reads the log through one connection or two sharing a snapshot; either way it
gives the same answer, hands every connection back, and never waits on a busy pool."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from store.audit import ChainVerification, _Verifier, verify_chain
from store.chain_scan import CleanRun, last_position, scan_clean_prefix, snapshot_readers
from store.event_store import EventStore
from store.migrations import create_app_pool
from tests.store.factories import new_events
from tests.store.tampering import (
    LOG_SIZE,
    PARK,
    forged_row,
    hash_at,
    shift_positions,
    tamper,
)


async def through_one_connection(pool: asyncpg.Pool, batch_size: int) -> ChainVerification:
    async with pool.acquire() as conn:
        return await verify_chain(conn, batch_size=batch_size)


@pytest.mark.parametrize("batch_size", [1, 4, 5, 1000])
@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE events SET data = '{\"n\":-1}' WHERE position = 23",
        "DELETE FROM events WHERE position BETWEEN 6 AND 10",
        "DELETE FROM events WHERE position = 20",
        "UPDATE events SET prev_hash = repeat('a', 64) WHERE position = 11",
    ],
    ids=["edit", "whole-page-deleted", "page-end-deleted", "link-rewritten"],
)
async def test_two_readers_and_one_reader_name_the_same_problem(
    filled: EventStore,
    owner: asyncpg.Connection,
    app_pool: asyncpg.Pool,
    damage: str,
    batch_size: int,
) -> None:
    await tamper(owner, damage)

    shared = await verify_chain(app_pool, batch_size=batch_size)
    alone = await through_one_connection(app_pool, batch_size)

    assert not shared.ok
    assert shared == alone


@pytest.mark.parametrize("batch_size", [3, 10, 1000])
async def test_an_inserted_row_is_named_after_pages_that_checked_out(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool, batch_size: int
) -> None:
    insert = await forged_row(owner, 25, await hash_at(owner, 24))
    await tamper(owner, *shift_positions(25, 1), insert)

    result = await verify_chain(app_pool, batch_size=batch_size)

    assert (result.problem, result.first_bad_position) == ("row inserted", 25)
    assert result.head_position == 24
    assert result.events_checked == 26  # the forged row checks out; the next row's link does not


async def test_verification_hands_both_connections_back_whatever_it_finds(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    assert (await verify_chain(app_pool, batch_size=4)).ok
    await tamper(owner, "DELETE FROM events WHERE position = 7")
    assert not (await verify_chain(app_pool, batch_size=4)).ok

    held = [await app_pool.acquire(timeout=1) for _ in range(app_pool.get_max_size())]
    for conn in held:
        assert not conn.is_in_transaction()
        await app_pool.release(conn)


async def test_a_pool_with_no_connection_to_spare_still_verifies_with_one(
    filled: EventStore, app_pool: asyncpg.Pool
) -> None:
    expected = await verify_chain(app_pool, batch_size=4)
    busy = [await app_pool.acquire() for _ in range(app_pool.get_max_size() - 1)]
    try:
        assert await verify_chain(app_pool, batch_size=4) == expected
    finally:
        for conn in busy:
            await app_pool.release(conn)


async def test_a_pool_of_one_connection_verifies(filled: EventStore, database_dsn: str) -> None:
    pool = await create_app_pool(database_dsn, min_size=1, max_size=1)
    try:
        result = await verify_chain(pool, batch_size=6)
    finally:
        await pool.close()
    assert result.ok
    assert result.events_checked == LOG_SIZE


async def edit_behind_the_triggers(owner: asyncpg.Connection, statement: str) -> None:
    """An edit committed without taking a table lock (``ALTER TABLE`` would wait for readers),
    as a superuser can: replica mode skips the append-only triggers."""
    async with owner.transaction():
        await owner.execute("SET LOCAL session_replication_role = replica")
        await owner.execute(statement)


async def test_both_readers_see_the_log_as_it_was_when_verification_began(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    async with snapshot_readers(app_pool) as readers:
        await edit_behind_the_triggers(owner, "UPDATE events SET data = '{}' WHERE position = 28")
        await filled.append("d", 0, new_events(3, start=LOG_SIZE))
        during = await scan_clean_prefix(readers, page_size=5, digest=None)
    after = await verify_chain(app_pool, batch_size=5)

    assert len(readers) == 2
    assert not during.stopped
    assert (during.checked, during.last_position) == (LOG_SIZE, LOG_SIZE)
    assert (after.problem, after.first_bad_position) == ("content edited", 28)


async def test_a_reader_outside_the_snapshot_would_see_the_edit(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    """The control for the test above: without the shared snapshot the edit shows."""
    async with (
        app_pool.acquire() as first,
        app_pool.acquire() as second,
        first.transaction(isolation="repeatable_read", readonly=True),
    ):
        await first.fetchval("SELECT 1")  # the snapshot is taken by the first query
        await edit_behind_the_triggers(owner, "UPDATE events SET data = '{}' WHERE position = 28")
        run = await scan_clean_prefix([first, second], page_size=5, digest=None)

    assert run.stopped
    assert run.good_position == 27


@pytest.mark.parametrize("page_size", [1, 4, 7, 100])
async def test_three_readers_hand_out_pages_in_log_order(
    filled: EventStore, app_pool: asyncpg.Pool, page_size: int
) -> None:
    async with snapshot_readers(app_pool, readers=3) as readers:
        run = await scan_clean_prefix(readers, page_size=page_size, digest=None)

    assert len(readers) == 3
    assert not run.stopped
    assert (run.checked, run.good_position) == (LOG_SIZE, LOG_SIZE)
    assert run.good_hash == (await filled.head())[1]


async def test_a_last_row_moved_far_beyond_the_end_is_named_as_a_gap_without_reading_up_to_it(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, f"UPDATE events SET position = 1000000000000 WHERE position = {LOG_SIZE}")

    result = await asyncio.wait_for(verify_chain(app_pool, batch_size=5), timeout=10)

    assert (result.problem, result.first_bad_position) == ("row deleted (gap)", LOG_SIZE)
    assert result.head_position == LOG_SIZE - 1


async def test_an_infinite_recorded_at_is_named_as_edited_content(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    await tamper(owner, "UPDATE events SET recorded_at = 'infinity' WHERE position = 12")

    result = await verify_chain(app_pool, batch_size=5)

    assert (result.problem, result.first_bad_position) == ("content edited", 12)


async def careful_only(pool: asyncpg.Pool, batch_size: int) -> ChainVerification:
    """The careful verifier alone, from the first event: what the fast pass must agree with."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        start = CleanRun(last_position=await last_position(conn), stopped=True)
        return await _Verifier(conn, batch_size, None, None, start).run()


@pytest.mark.parametrize("batch_size", [3, 1000])
@pytest.mark.parametrize(
    "damage",
    [
        ["UPDATE events SET data = '{\"n\":-1}' WHERE position = 17"],
        ["UPDATE events SET stream_version = stream_version + 100 WHERE position = 9"],
        ["UPDATE events SET content_digest = sha256('forged') WHERE position = 9"],
        ["UPDATE events SET hash = encode(sha256('forged'), 'hex') WHERE position = 9"],
        ["DELETE FROM events WHERE position = 12"],
        ["DELETE FROM events WHERE position = 12", *shift_positions(13, -1)],
        [
            f"UPDATE events SET position = {PARK} WHERE position = 14",
            "UPDATE events SET position = 14 WHERE position = 15",
            f"UPDATE events SET position = 15 WHERE position = {PARK}",
        ],
        ["UPDATE events SET prev_hash = repeat('a', 64) WHERE position = 11"],
        [f"DELETE FROM events WHERE position > {LOG_SIZE - 3}"],
    ],
    ids=[
        "edit",
        "version",
        "digest",
        "hash",
        "gap",
        "renumbered",
        "swapped",
        "link",
        "truncated",
    ],
)
async def test_the_fast_pass_and_the_careful_verifier_alone_agree(
    filled: EventStore,
    owner: asyncpg.Connection,
    app_pool: asyncpg.Pool,
    damage: list[str],
    batch_size: int,
) -> None:
    await tamper(owner, *damage)

    assert await verify_chain(app_pool, batch_size=batch_size) == await careful_only(
        app_pool, batch_size
    )
