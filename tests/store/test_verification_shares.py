"""Verification shared out to several processes gives exactly the answer of one: the same
problem at the same position, the same head and count, whichever range the damage is in or
next to. The 30-event log is cut into three ranges of ten: (0, 10], (10, 20], (20, 30]."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import asyncpg
import pytest

import store.chain_shares
from store.audit import ChainVerification, verify_chain
from store.chain_scan import LOG_START, CleanRun, scan_clean_prefix, snapshot_readers
from store.chain_shares import ShareOfTheLog, VerifierStopped, joined, share_bounds
from store.dsn import with_user
from store.event_store import EventStore
from store.migrations import APP_ROLE
from tests.store.tampering import LOG_SIZE, PARK, forged_row, hash_at, shift_positions, tamper

SHARES = 3
# A finite timestamp whose epoch microseconds do not fit a bigint, nor a Python datetime.
FAR_FUTURE = "294270-01-01 00:00:00+00"


@pytest.fixture
def app_dsn(database_dsn: str) -> str:
    return with_user(database_dsn, APP_ROLE)


@pytest.fixture
def small_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """Share out even the test's 30 events (a real log needs 100,000 per process)."""
    monkeypatch.setattr(store.chain_shares, "MIN_EVENTS_PER_SHARE", 1)


async def in_shares(pool: asyncpg.Pool, dsn: str, **options: object) -> ChainVerification:
    return await verify_chain(pool, batch_size=4, processes=SHARES, database_url=dsn, **options)  # type: ignore[arg-type]


async def test_an_untouched_log_verifies_in_three_processes_with_the_head_of_one(
    filled: EventStore,
    app_pool: asyncpg.Pool,
    app_dsn: str,
    small_shares: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int]] = []
    started: list[ShareOfTheLog] = []
    real_start = store.chain_shares._start

    def watched_start(share: ShareOfTheLog) -> tuple[BaseProcess, Connection]:
        started.append(share)
        return real_start(share)

    monkeypatch.setattr(store.chain_shares, "_start", watched_start)

    shared = await in_shares(app_pool, app_dsn, progress=lambda *p: seen.append(p))

    assert [(share.after, share.until) for share in started] == [(10, 20), (20, 30)]
    assert shared.ok
    assert shared == await verify_chain(app_pool, batch_size=4)
    assert (shared.events_checked, (shared.head_position, shared.head_hash)) == (
        LOG_SIZE,
        await filled.head(),
    )
    assert seen[0] == (0, LOG_SIZE)
    assert seen[-1] == (LOG_SIZE, LOG_SIZE)
    assert [checked for checked, _ in seen] == sorted(checked for checked, _ in seen)


@pytest.mark.parametrize(
    "damage",
    [
        ["UPDATE events SET data = '{\"n\":-1}' WHERE position = 23"],
        ["UPDATE events SET data = '{\"n\":-1}' WHERE position = 10"],
        ["UPDATE events SET data = '{\"n\":-1}' WHERE position = 11"],
        ["UPDATE events SET hash = repeat('z', 64) WHERE position = 10"],
        ["UPDATE events SET prev_hash = repeat('a', 64) WHERE position = 11"],
        ["UPDATE events SET stream_version = stream_version + 100 WHERE position = 20"],
        ["DELETE FROM events WHERE position = 10"],
        ["DELETE FROM events WHERE position = 20"],
        ["DELETE FROM events WHERE position BETWEEN 9 AND 21"],
        ["DELETE FROM events WHERE position = 12", *shift_positions(13, -1)],
        [
            f"UPDATE events SET position = {PARK} WHERE position = 10",
            "UPDATE events SET position = 10 WHERE position = 11",
            f"UPDATE events SET position = 11 WHERE position = {PARK}",
        ],
        [
            "UPDATE events SET data = '{\"n\":-1}' WHERE position = 25",
            "UPDATE events SET data = '{\"n\":-1}' WHERE position = 5",
        ],
        [
            "UPDATE events SET data = '{\"n\":-1}' WHERE position = 5",
            f"UPDATE events SET recorded_at = '{FAR_FUTURE}' WHERE position = 25",
        ],
        [f"UPDATE events SET recorded_at = '{FAR_FUTURE}' WHERE position = 25"],
    ],
    ids=[
        "edit-inside-the-last-range",
        "edit-at-the-end-of-a-range",
        "edit-at-the-start-of-a-range",
        "unreadable-hash-where-a-range-starts",
        "link-rewritten-across-a-cut",
        "version-edited-at-a-cut",
        "deleted-at-the-end-of-a-range",
        "deleted-at-the-end-of-the-middle-range",
        "deleted-across-two-cuts",
        "deleted-and-renumbered",
        "swapped-across-a-cut",
        "two-edits-the-earlier-named",
        "an-unreadable-row-later-does-not-hide-an-earlier-edit",
        "an-unreadable-timestamp",
    ],
)
@pytest.mark.parametrize("shares", [3, 7])
async def test_shared_processes_name_the_same_first_problem_as_one(
    filled: EventStore,
    owner: asyncpg.Connection,
    app_pool: asyncpg.Pool,
    app_dsn: str,
    small_shares: None,
    damage: list[str],
    shares: int,
) -> None:
    await tamper(owner, *damage)

    shared = await verify_chain(app_pool, batch_size=4, processes=shares, database_url=app_dsn)
    alone = await verify_chain(app_pool, batch_size=4)

    assert not alone.ok
    assert shared == alone


@pytest.mark.usefixtures("filled", "small_shares")
async def test_an_inserted_row_at_a_cut_is_named_as_one_process_names_it(
    owner: asyncpg.Connection, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    insert = await forged_row(owner, 11, await hash_at(owner, 10))
    await tamper(owner, *shift_positions(11, 1), insert)

    shared = await in_shares(app_pool, app_dsn)

    assert (shared.problem, shared.first_bad_position) == ("row inserted", 11)
    assert shared == await verify_chain(app_pool, batch_size=4)


@pytest.mark.usefixtures("filled", "small_shares")
async def test_a_digest_is_checked_in_whichever_range_holds_its_position(
    owner: asyncpg.Connection, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    kept = (25, await hash_at(owner, 25))
    assert (await in_shares(app_pool, app_dsn, digest=kept)).ok

    shared = await in_shares(app_pool, app_dsn, digest=(25, "0" * 64))

    assert (shared.problem, shared.first_bad_position) == ("digest mismatch", 25)
    assert shared == await verify_chain(app_pool, batch_size=4, digest=(25, "0" * 64))


async def test_a_log_too_small_to_share_is_checked_here_alone(
    filled: EventStore, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    """Below the share size no process is started: a bad address for them goes unused."""
    result = await verify_chain(
        app_pool, processes=4, database_url="postgresql://nobody@127.0.0.1:1/none"
    )

    assert result == await verify_chain(app_pool)


async def test_a_process_that_cannot_connect_fails_the_verification_rather_than_passing_it(
    filled: EventStore, app_pool: asyncpg.Pool, small_shares: None
) -> None:
    with pytest.raises(OSError, match="Connect call failed"):
        await verify_chain(
            app_pool, processes=2, database_url="postgresql://nobody@127.0.0.1:1/none"
        )


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"processes": 2}, "needs the database_url"),
        ({"processes": 0}, "processes must be at least 1"),
    ],
)
async def test_sharing_refuses_options_it_cannot_honour(
    app_pool: asyncpg.Pool, options: dict[str, int], rule: str
) -> None:
    with pytest.raises(ValueError, match=rule):
        await verify_chain(app_pool, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "last", "shares"), [(0, 30, 3), (0, 31, 4), (5, 7, 2)])
def test_share_bounds_cut_the_log_into_consecutive_ranges_that_cover_it(
    first: int, last: int, shares: int
) -> None:
    bounds = share_bounds(first, last, shares)

    assert len(bounds) == shares
    assert bounds[0][0] == first
    assert bounds[-1][1] == last
    assert all(bounds[k][1] == bounds[k + 1][0] for k in range(shares - 1))
    sizes = [until - after for after, until in bounds]
    assert max(sizes) - min(sizes) <= 1


def test_joined_results_stop_at_the_first_range_that_stopped_and_ignore_the_rest() -> None:
    first = CleanRun(30, checked=10, good_position=10, good_hash="h10", before_good_hash="h9")
    stopped_at_once = CleanRun(30, checked=0, good_position=10, good_hash="?", stopped=True)
    later = CleanRun(30, checked=10, good_position=30, good_hash="h30", before_good_hash="h29")

    whole = joined([first, stopped_at_once, later], 30)

    assert whole == CleanRun(
        30, checked=10, good_position=10, good_hash="h10", before_good_hash="h9", stopped=True
    )


def silent_process(target: object, *args: object) -> object:
    """A stand-in for a verification process that never answers: it runs ``target``."""

    def start(share: ShareOfTheLog) -> tuple[BaseProcess, Connection]:
        spawn = multiprocessing.get_context("spawn")
        receiver, sender = spawn.Pipe(duplex=False)
        process = spawn.Process(target=target, args=args, daemon=True)
        process.start()
        sender.close()
        return process, receiver

    return start


@pytest.fixture
def never_answering(monkeypatch: pytest.MonkeyPatch, small_shares: None) -> None:
    """Every range but the first goes to a process that sleeps and never answers."""
    monkeypatch.setattr(store.chain_shares, "_start", silent_process(time.sleep, 3600))


@pytest.mark.usefixtures("filled", "never_answering")
async def test_a_problem_in_the_first_range_is_named_without_waiting_for_the_others(
    owner: asyncpg.Connection, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    await tamper(owner, "UPDATE events SET data = '{\"n\":-1}' WHERE position = 3")

    shared = await asyncio.wait_for(in_shares(app_pool, app_dsn), timeout=30)

    assert (shared.problem, shared.first_bad_position) == ("content edited", 3)
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("filled", "never_answering")
async def test_a_cancelled_verification_stops_its_processes(
    app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    verification = asyncio.create_task(in_shares(app_pool, app_dsn))
    await asyncio.sleep(1)  # the first range is checked; the second never answers

    verification.cancel()
    done, _ = await asyncio.wait({verification}, timeout=30)

    assert verification in done
    assert verification.cancelled()
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("filled", "small_shares")
async def test_a_process_that_dies_without_answering_fails_the_verification_by_name(
    app_pool: asyncpg.Pool, app_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.chain_shares, "_start", silent_process(os._exit, 3))

    with pytest.raises(VerifierStopped, match=r"positions 11 to 20 .* \(exit code 3\)"):
        await in_shares(app_pool, app_dsn)


async def test_a_range_with_its_last_rows_missing_has_not_checked_out(
    filled: EventStore, owner: asyncpg.Connection, app_pool: asyncpg.Pool
) -> None:
    """No later row in the range shows the gap; the range's end does."""
    await tamper(owner, "DELETE FROM events WHERE position IN (9, 10)")

    async with snapshot_readers(app_pool) as readers:
        run = await scan_clean_prefix(readers, page_size=4, digest=None, start=LOG_START, until=10)

    assert run.stopped
    assert (run.checked, run.good_position) == (8, 8)


async def test_sharing_refuses_a_transaction_in_which_each_statement_sees_a_new_log(
    filled: EventStore, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    async with app_pool.acquire() as conn, conn.transaction(isolation="read_committed"):
        with pytest.raises(ValueError, match="REPEATABLE READ or SERIALIZABLE"):
            await verify_chain(conn, processes=2, database_url=app_dsn)
