"""The fast pass of chain verification: check an intact log at the speed of reading it.

Almost every verification finds nothing wrong, so this pass does the same checks as
``store.audit`` (position follows position, the link names the previous hash, the stored fields
give the content digest, the chain record gives the hash, the pinned digest matches) with no
object per row: it reads only what the encodings need, with ``recorded_at`` as epoch
microseconds and the event id as its 16 bytes, and folds a page in one tight loop. At the first
row that does not check out it stops and says where, and ``store.audit`` takes over from the
last good event to tell what kind of tampering it is.

Reading and checking overlap: with a second connection in the same snapshot
(``pg_export_snapshot``), the next page is already being produced by Postgres while this one
is hashed. Both connections see exactly the same log, so the pass stays one consistent check.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from store.hashing import _CONTENT_HEAD, CHAIN_TAG, GENESIS_HASH

# Postgres' epoch is exact numeric (14+), so the product is exact whole microseconds: the same
# value ``store.hashing.recorded_at_micros`` gives, as ``event_content_digest()`` computes it.
# A ``recorded_at`` no Python datetime can hold (infinite, or beyond year 9999; never written
# by us, and past 294,000 its microseconds would not even fit a bigint) comes back NULL and
# stops the pass there.
# The JSON texts come as their UTF-8 bytes, what the digest covers, not decoded and re-encoded.
PAGE_QUERY = """
SELECT position, stream_version, stream_id, uuid_send(event_id), type, schema_version,
       convert_to(data::text, 'UTF8'), convert_to(metadata::text, 'UTF8'),
       CASE WHEN recorded_at >= '0001-01-01 00:00:00+00' AND recorded_at < '10000-01-01 00:00:00+00'
            THEN (EXTRACT(epoch FROM recorded_at) * 1000000)::bigint END,
       prev_hash, hash, content_digest
  FROM public.events
 WHERE position > $1 AND position <= $2
 ORDER BY position
"""

_LAST_POSITION = "SELECT COALESCE(max(position), 0) FROM public.events"


_SPARE_CONNECTION_WAIT = 0.5  # seconds
_chain_numbers = struct.Struct(">qi").pack


@dataclass(slots=True)
class CleanRun:
    """How far the log checked out. ``stopped`` is True when the row after ``good_position``
    failed a check (or ended a gap); ``before_good_hash`` is the hash before the good one."""

    last_position: int
    checked: int = 0
    good_position: int = 0
    good_hash: str = GENESIS_HASH
    before_good_hash: str | None = None
    stopped: bool = False


@contextlib.asynccontextmanager
async def snapshot_readers(
    pool: asyncpg.Pool, *, readers: int = 2
) -> AsyncIterator[list[asyncpg.Connection]]:
    """Up to ``readers`` of ``pool``'s connections in one read-only REPEATABLE READ snapshot.
    The first is always there; each other one only if it comes free within half a second, so a
    busy pool slows verification down but never stalls it."""
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(pool.acquire())
        await stack.enter_async_context(
            first.transaction(isolation="repeatable_read", readonly=True)
        )
        joined = [first]
        snapshot: str | None = None
        while len(joined) < min(readers, pool.get_max_size()):
            spare = await _spare_connection(pool)
            if spare is None:
                break
            stack.push_async_callback(pool.release, spare)
            await stack.enter_async_context(
                spare.transaction(isolation="repeatable_read", readonly=True)
            )
            if snapshot is None:
                snapshot = await first.fetchval("SELECT pg_export_snapshot()")
            await spare.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            joined.append(spare)
        yield joined


async def _spare_connection(pool: asyncpg.Pool) -> asyncpg.Connection | None:
    try:
        spare: asyncpg.Connection = await pool.acquire(timeout=_SPARE_CONNECTION_WAIT)
    except TimeoutError:
        return None
    return spare


async def last_position(conn: asyncpg.Connection) -> int:
    """The log's last position as the connection's snapshot sees it (0 when empty)."""
    return int(await conn.fetchval(_LAST_POSITION))


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """Where a scan picks the chain up: the event at ``position`` with its stored ``hash`` and
    the ``prev_hash`` it links to. Trusted only once the events up to it have checked out."""

    position: int
    hash: str
    prev_hash: str | None


LOG_START = ChainPoint(position=0, hash=GENESIS_HASH, prev_hash=None)


async def scan_clean_prefix(
    readers: Sequence[asyncpg.Connection],
    *,
    page_size: int,
    digest: tuple[int, str] | None,
    on_page: Callable[[int, int], None] | None = None,
    start: ChainPoint = LOG_START,
    until: int | None = None,
) -> CleanRun:
    """Check the log after ``start`` (by default its beginning) up to position ``until`` (by
    default its end) until the first row that fails, with every connection in ``readers``
    inside one snapshot (one connection works; two overlap reading and hashing). ``on_page``
    is told (events checked, last position) after each page."""
    last = await last_position(readers[0]) if until is None else until
    run = CleanRun(
        last_position=last,
        good_position=start.position,
        good_hash=start.hash,
        before_good_hash=start.prev_hash,
    )
    pinned = digest if digest is not None else (0, "")
    good_raw = bytes.fromhex(start.hash)
    async with contextlib.aclosing(_pages(readers, start.position, last, page_size)) as pages:
        async for rows in pages:
            if not rows:  # positions run 1..last without gaps: a page with none is a gap
                run.stopped = True
                break
            good_raw = _check_page(rows, run, good_raw, pinned)
            if on_page is not None:
                on_page(run.checked, run.last_position)
            if run.stopped:
                break
    # The rows at the end of a range (not of the log, which ends at its last row) can be
    # missing without any later row in the range noticing.
    run.stopped = run.stopped or run.good_position < last
    return run


def _check_page(
    rows: Sequence[asyncpg.Record], run: CleanRun, good_raw: bytes, pinned: tuple[int, str]
) -> bytes:
    """Fold one page into ``run``; returns the last good hash as bytes (the next chain's input).
    Stops, with ``run.stopped`` set, before the first row that fails any check."""
    sha256 = hashlib.sha256
    numbers = _chain_numbers
    head = _CONTENT_HEAD
    tag = CHAIN_TAG
    expected = run.good_position + 1
    good_hash = run.good_hash
    before = run.before_good_hash
    pinned_position, pinned_hash = pinned
    for (
        position,
        stream_version,
        stream_id,
        event_id,
        type_,
        schema_version,
        data,
        metadata,
        micros,
        prev_hash,
        stored_hash,
        content_digest,
    ) in rows:
        if position != expected or prev_hash != good_hash or micros is None:
            run.stopped = True
            break
        stream_raw = stream_id.encode()
        type_raw = type_.encode()
        version_raw = b"%d" % schema_version
        micros_raw = b"%d" % micros
        content = b"%b%d:%b,16:%b,%d:%b,%d:%b,%d:%b,%d:%b,%d:%b," % (
            head,
            len(stream_raw),
            stream_raw,
            event_id,
            len(type_raw),
            type_raw,
            len(version_raw),
            version_raw,
            len(data),
            data,
            len(metadata),
            metadata,
            len(micros_raw),
            micros_raw,
        )
        if sha256(content).digest() != content_digest:
            run.stopped = True
            break
        raw = sha256(tag + numbers(position, stream_version) + good_raw + content_digest).digest()
        hex_hash = raw.hex()
        if hex_hash != stored_hash or (position == pinned_position and hex_hash != pinned_hash):
            run.stopped = True
            break
        before, good_hash, good_raw = good_hash, hex_hash, raw
        expected += 1
    run.checked += expected - 1 - run.good_position
    run.good_position = expected - 1
    run.good_hash = good_hash
    run.before_good_hash = before
    return good_raw


async def _pages(
    readers: Sequence[asyncpg.Connection], after: int, last: int, page_size: int
) -> AsyncGenerator[list[asyncpg.Record], None]:
    """Pages of positions (start, start + page_size] from ``after`` up to ``last``, each read
    on the next connection in turn and asked for before the previous page is handed out.
    Close it (as ``scan_clean_prefix`` does) before using a connection again: closing waits for
    the page still being read rather than cancelling it mid-flight."""
    starts = range(after, last, page_size)
    if not starts:
        return

    def read(turn: int) -> asyncio.Future[list[asyncpg.Record]]:
        start = starts[turn]
        page: Coroutine[Any, Any, list[asyncpg.Record]] = readers[turn % len(readers)].fetch(
            PAGE_QUERY, start, min(start + page_size, last)
        )
        return asyncio.ensure_future(page)

    in_flight = collections.deque(read(turn) for turn in range(min(len(readers), len(starts))))
    asked = len(in_flight)
    try:
        while in_flight:
            rows = await in_flight.popleft()
            if asked < len(starts):
                in_flight.append(read(asked))
                asked += 1
                await asyncio.sleep(0)  # let the request go out before this page is hashed
            yield rows
    finally:
        await asyncio.gather(*in_flight, return_exceptions=True)
