"""Rebuilding the product read model on several cores.

Folding is Python work (parse each event, evolve the state), so one process folds about as
fast as one core allows. A product's state depends only on its own stream, so the products can
be shared out: each of N processes takes its share of the product streams and folds them one
stream at a time, reading each stream in version order through its index, and writes each
product's row once. No two processes ever write the same row, and no event is read twice.

The checkpoint keeps this safe for everyone else. One transaction refuses if another rebuild
owns the rows (unless told to take over), wipes the rows, marks the checkpoint ``REBUILDING``
with this rebuild's id, and notes the log's last position and the product streams begun by
then; projectors that find the mark fold nothing. Every share checks, in the transaction of
each write, that the mark still carries this id, so a share of an abandoned or overtaken
rebuild stops at its next write. When every share has folded up to the noted position, the
checkpoint is set to it and ordinary catch-up takes over for whatever was appended meanwhile
(positions are gap-free and commit-ordered, so everything after it is still to come). If a
share fails, or this rebuild is cancelled, the rows are wiped and the checkpoint reset to 0, so
catch-up replays the log in order and stops at any event that cannot be folded, exactly as a
one-process rebuild would.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import uuid
from collections.abc import Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import asyncpg

from store.events import RawEvent
from store.product_fold import PRODUCT_STREAM_PREFIX, fold_rows, upsert_states
from store.projection_checkpoint import (
    REBUILDING,
    RebuildInProgress,
    advance_checkpoint,
    lock_checkpoint,
    mark_rebuilding,
    still_rebuilding,
    wipe_product_states,
)

__all__ = ["RebuildTakenOver", "rebuild_in_shares"]

_log = logging.getLogger(__name__)

_LAST_POSITION = "SELECT COALESCE(max(position), 0) FROM public.events"
# Every stream has exactly one first event: the product streams begun up to the noted position.
_PRODUCT_STREAMS = f"""
SELECT stream_id FROM public.events
 WHERE stream_version = 1 AND position <= $1 AND stream_id LIKE '{PRODUCT_STREAM_PREFIX}%'
 ORDER BY position
"""
_STREAMS = """
SELECT position, stream_id, stream_version, data::text FROM public.events
 WHERE stream_id = ANY($1::text[]) AND position <= $2
 ORDER BY stream_id, stream_version
"""
_STREAMS_AT_ONCE = 64


class RebuildTakenOver(RuntimeError):
    """Another rebuild took the rows over while this one's shares were folding."""


async def rebuild_in_shares(
    pool: asyncpg.Pool, database_url: str, name: str, *, shares: int, force: bool = False
) -> int:
    """Fold the log into ``name``'s rows in ``shares`` processes; returns the product events
    folded (0 after a failed share, the log then being left to the caller's catch-up)."""
    rebuild_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        checkpoint = await lock_checkpoint(conn, name)
        if checkpoint.position == REBUILDING and not force:
            raise RebuildInProgress(name, checkpoint.rebuild_id)
        await wipe_product_states(conn)
        await mark_rebuilding(conn, name, rebuild_id)
        last = int(await conn.fetchval(_LAST_POSITION))
        streams = [row["stream_id"] for row in await conn.fetch(_PRODUCT_STREAMS, last)]
    _log.info(
        "product projection wiped; %d processes fold %d products up to position %d",
        shares,
        len(streams),
        last,
    )
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads and sockets
    processes = ProcessPoolExecutor(max_workers=shares, mp_context=spawn)
    loop = asyncio.get_running_loop()
    try:
        results = await asyncio.gather(
            *(
                loop.run_in_executor(
                    processes, fold_share, database_url, name, rebuild_id, streams[k::shares], last
                )
                for k in range(shares)
            ),
            return_exceptions=True,
        )
    except BaseException:
        processes.shutdown(wait=False, cancel_futures=True)
        await asyncio.shield(_give_up(pool, name, rebuild_id))
        raise
    processes.shutdown(wait=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    async with pool.acquire() as conn, conn.transaction():
        checkpoint = await lock_checkpoint(conn, name)
        if checkpoint.rebuild_id != rebuild_id:
            raise RebuildTakenOver(f"another rebuild of {name} took over while this one ran")
        if failures:
            await wipe_product_states(conn)
            await advance_checkpoint(conn, name, 0)
        else:
            await advance_checkpoint(conn, name, last)
    if failures:
        _log.warning("a share of the rebuild failed (%r); replaying in order", failures[0])
        return 0
    return sum(result for result in results if isinstance(result, int))


async def _give_up(pool: asyncpg.Pool, name: str, rebuild_id: uuid.UUID) -> None:
    """Hand the rows back empty at checkpoint 0, unless another rebuild already took them."""
    async with pool.acquire() as conn, conn.transaction():
        if (await lock_checkpoint(conn, name)).rebuild_id == rebuild_id:
            await wipe_product_states(conn)
            await advance_checkpoint(conn, name, 0)


def fold_share(
    database_url: str, name: str, rebuild_id: uuid.UUID, streams: Sequence[str], last: int
) -> int:
    """A rebuild process: fold ``streams`` up to ``last`` and write their rows; returns the
    product events folded. Runs in its own process (see ``rebuild_in_shares``)."""
    # Everything imported so far lives as long as the process: keep it out of every collection.
    gc.freeze()
    return asyncio.run(fold_streams(database_url, name, rebuild_id, streams, last))


async def fold_streams(
    database_url: str, name: str, rebuild_id: uuid.UUID, streams: Sequence[str], last: int
) -> int:
    """Fold each of ``streams`` from its first event up to ``last`` and write its row, a few
    streams per transaction, each transaction first checking ``rebuild_id`` still owns the rows.
    Streams are read on one connection while the previous ones are folded, and written on
    another."""
    reader = await asyncpg.connect(database_url)
    try:
        writer = await asyncpg.connect(database_url)
    except BaseException:
        await reader.close()
        raise
    chunks = [
        list(streams[k : k + _STREAMS_AT_ONCE]) for k in range(0, len(streams), _STREAMS_AT_ONCE)
    ]

    def read(chunk: list[str]) -> asyncio.Future[list[asyncpg.Record]]:
        rows: Coroutine[Any, Any, list[asyncpg.Record]] = reader.fetch(_STREAMS, chunk, last)
        return asyncio.ensure_future(rows)

    ahead = read(chunks[0]) if chunks else None
    try:
        folded = 0
        for turn in range(len(chunks)):
            assert ahead is not None
            rows = [RawEvent(*record) for record in await ahead]
            ahead = read(chunks[turn + 1]) if turn + 1 < len(chunks) else None
            await asyncio.sleep(0)  # let the next read go out while this chunk is folded
            page = fold_rows(rows, {}, reached=0)
            if page.failure is not None:
                raise page.failure
            async with writer.transaction():
                if not await still_rebuilding(writer, name, rebuild_id):
                    raise RebuildTakenOver(
                        f"rebuild {rebuild_id} of {name} no longer owns the rows"
                    )
                await upsert_states(writer, page)
            folded += len(rows)
        return folded
    finally:
        if ahead is not None:
            await asyncio.gather(ahead, return_exceptions=True)
        await reader.close()
        await writer.close()
