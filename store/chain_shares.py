"""The fast pass of chain verification on several cores.

Hashing is Python work, so one process checks the log about as fast as one core hashes it
(measured: the client, not Postgres, is the limit; docs/performance.md). The check itself
needs no order between distant events: an event checks out when its content gives its stored
digest, its place, predecessor and digest give its stored hash, and it links to the stored hash
of the event before. So the log can be cut into consecutive ranges, each checked by its own
process from the stored hash at its start. A range's starting point is trusted only because
the range before it checked out up to and including that very event; so the results are read
in log order, and the first range that stopped is where the careful pass takes over, exactly
as if one process had scanned the whole log.

Every process reads in the snapshot the caller's transaction exported, so all of them see one
and the same log.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import asyncpg

from store.chain_scan import LOG_START, ChainPoint, CleanRun, scan_clean_prefix

__all__ = [
    "MIN_EVENTS_PER_SHARE",
    "ShareOfTheLog",
    "VerifierStopped",
    "joined",
    "scan_in_shares",
    "share_bounds",
]

# Starting a process costs about as long as checking this many events (~0.3 s at ~200,000/s
# on the 2-core machines measured), so smaller logs are not worth sharing out.
MIN_EVENTS_PER_SHARE = 100_000

_POINT = "SELECT hash, prev_hash FROM public.events WHERE position = $1"
# No fork of a process with threads and sockets.
_SPAWN = multiprocessing.get_context("spawn")


class VerifierStopped(RuntimeError):
    """A verification process ended without an answer (killed, out of memory...)."""


@dataclass(frozen=True)
class ShareOfTheLog:
    """What a verification process checks: positions (after, until] in ``snapshot``."""

    database_url: str
    snapshot: str
    after: int
    until: int
    page_size: int
    digest: tuple[int, str] | None


def share_bounds(first: int, last: int, shares: int) -> list[tuple[int, int]]:
    """(after, until] position ranges cutting (first, last] into ``shares`` consecutive parts
    of near-equal size."""
    size = last - first
    cuts = [first + size * k // shares for k in range(shares + 1)]
    return [(cuts[k], cuts[k + 1]) for k in range(shares)]


async def scan_in_shares(
    readers: Sequence[asyncpg.Connection],
    *,
    database_url: str,
    processes: int,
    page_size: int,
    digest: tuple[int, str] | None,
    last: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> CleanRun:
    """The same answer as ``scan_clean_prefix`` over the whole log, in up to ``processes``
    processes. The first range is checked here on ``readers`` (inside their open snapshot)
    while the others start; each other range gets a process of its own that connects to
    ``database_url`` and joins the snapshot.

    Results are taken in log order. Once a range stopped, what the later ones found (even an
    error) is never looked at, and their processes are stopped at once, as they are when this
    call fails or is cancelled."""
    shares = max(1, min(processes, last // MIN_EVENTS_PER_SHARE))
    bounds = share_bounds(0, last, shares)
    if shares == 1:
        return await scan_clean_prefix(
            readers, page_size=page_size, digest=digest, on_page=on_progress, until=last
        )
    snapshot = str(await readers[0].fetchval("SELECT pg_export_snapshot()"))
    loop = asyncio.get_running_loop()
    progress = _Progress(last, on_progress)
    verifiers: list[BaseProcess] = []
    try:
        outcomes = []
        for index, (after, until) in enumerate(bounds[1:], start=1):
            share = ShareOfTheLog(database_url, snapshot, after, until, page_size, digest)
            process, receiver = _start(share)
            verifiers.append(process)
            outcome = loop.run_in_executor(None, _outcome, share, process, receiver)
            outcome.add_done_callback(progress.finished(index))
            outcomes.append(outcome)
        runs = [
            await scan_clean_prefix(
                readers,
                page_size=page_size,
                digest=digest,
                on_page=progress.here,
                until=bounds[0][1],
            )
        ]
        for outcome in outcomes:
            if runs[-1].stopped:
                break
            runs.append(await outcome)
    finally:
        for process in verifiers:
            process.terminate()  # a no-op for those that are done
        for process in verifiers:
            await loop.run_in_executor(None, process.join)
    return joined(runs, last)


class _Progress:
    """Events checked so far: here, page by page, and in each other range once it is done."""

    def __init__(self, last: int, report: Callable[[int, int], None] | None) -> None:
        self._last = last
        self._report = report
        self._here = 0
        self._done: dict[int, int] = {}

    def here(self, checked: int, _last: int) -> None:
        self._here = checked
        self._tell()

    def finished(self, index: int) -> Callable[[asyncio.Future[CleanRun]], None]:
        def record(outcome: asyncio.Future[CleanRun]) -> None:
            if not outcome.cancelled() and outcome.exception() is None:
                self._done[index] = outcome.result().checked
                self._tell()

        return record

    def _tell(self) -> None:
        if self._report is not None:
            self._report(self._here + sum(self._done.values()), self._last)


def _start(
    share: ShareOfTheLog,
) -> tuple[BaseProcess, multiprocessing.connection.Connection]:
    receiver, sender = _SPAWN.Pipe(duplex=False)
    process = _SPAWN.Process(target=check_share, args=(share, sender), daemon=True)
    process.start()
    sender.close()  # the child holds the only sending end: its death closes the pipe
    return process, receiver


def _outcome(
    share: ShareOfTheLog,
    process: BaseProcess,
    receiver: multiprocessing.connection.Connection,
) -> CleanRun:
    """Waits (in a thread) for the process's answer or its end; raises what it raised."""
    with receiver:
        multiprocessing.connection.wait([receiver, process.sentinel])
        answer: CleanRun | BaseException | None = None
        if receiver.poll():
            try:
                answer = receiver.recv()
            except EOFError:
                answer = None
    if isinstance(answer, BaseException):
        raise answer
    if answer is None:
        process.join()
        raise VerifierStopped(
            f"the process verifying positions {share.after + 1} to {share.until} ended "
            f"without an answer (exit code {process.exitcode})"
        )
    return answer


def joined(runs: Sequence[CleanRun], last: int) -> CleanRun:
    """The ranges' results read in log order, up to the first that stopped: what one scan of
    the whole log would have found."""
    whole = CleanRun(last_position=last)
    for run in runs:
        whole.checked += run.checked
        if run.checked:
            whole.good_position = run.good_position
            whole.good_hash = run.good_hash
            whole.before_good_hash = run.before_good_hash
        if run.stopped:
            whole.stopped = True
            break
    return whole


def check_share(share: ShareOfTheLog, sender: multiprocessing.connection.Connection) -> None:
    """A verification process: the fast pass over its share of the log, answered (or what it
    raised) through ``sender``."""
    gc.freeze()  # what is imported lives as long as the process: keep it out of collections
    answer: CleanRun | BaseException
    try:
        answer = asyncio.run(_check_share(share))
    except Exception as error:  # handed to the parent, which raises it
        answer = error
    try:
        sender.send(answer)
    except Exception as error:  # one that does not pickle
        sender.send(RuntimeError(f"{type(error).__name__}: {answer!r}"))
    finally:
        sender.close()


async def _check_share(share: ShareOfTheLog) -> CleanRun:
    readers: list[asyncpg.Connection] = []
    try:
        for _ in range(2):  # two readers: the next page is read while this one is hashed
            conn = await asyncpg.connect(share.database_url)
            readers.append(conn)
            await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{share.snapshot}'")
        start = await _starting_point(readers[0], share.after)
        if start is None:
            # Missing or not a hash: the range before this one cannot have checked out up to
            # it, so it stopped first and this result is never read.
            return CleanRun(last_position=share.until, good_position=share.after, stopped=True)
        return await scan_clean_prefix(
            readers, page_size=share.page_size, digest=share.digest, start=start, until=share.until
        )
    finally:
        for conn in readers:
            await conn.close()


async def _starting_point(conn: asyncpg.Connection, position: int) -> ChainPoint | None:
    if position == 0:
        return LOG_START
    row = await conn.fetchrow(_POINT, position)
    if row is None or not _is_hash(row["hash"]):
        return None
    return ChainPoint(position=position, hash=row["hash"], prev_hash=row["prev_hash"])


def _is_hash(text: str) -> bool:
    """A stored hash the chain can continue from: 64 hex digits (a tampered one may not be)."""
    try:
        return len(bytes.fromhex(text)) == 32
    except ValueError:
        return False
