"""Rebuilding the product read model on several cores.

Folding is Python work (parse each event, evolve the state), so one process folds about as
fast as one core allows. A product's state depends only on its own stream, so the products can
be shared out: each of N processes folds the product streams whose hash falls in its share, in
log order, and writes those products' rows. No two processes ever write the same row.

The checkpoint keeps this safe for everyone else. One transaction wipes the rows, marks the
checkpoint ``REBUILDING`` and notes the log's last position; projectors that find the mark
fold nothing. When every share has folded up to that position, the checkpoint is set to it and
ordinary catch-up takes over for whatever was appended meanwhile (positions are gap-free and
commit-ordered, so everything after the noted position is still to come). If a share fails,
the rows are wiped and the checkpoint reset to 0, so the caller's catch-up replays the log in
order and stops at the event that cannot be folded, exactly as a one-process rebuild would.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import asyncpg

from domain.state import ProductState
from store.events import RawEvent
from store.product_fold import PRODUCT_STREAM_PREFIX, fold_page
from store.projection_checkpoint import (
    REBUILDING,
    advance_checkpoint,
    lock_checkpoint,
    wipe_product_states,
)

__all__ = ["RebuildTakenOver", "rebuild_in_shares"]

_log = logging.getLogger(__name__)

_LAST_POSITION = "SELECT COALESCE(max(position), 0) FROM public.events"

# The share of a stream: its name's hash (Postgres' own, non-negative) modulo the shares.
_SHARE_PAGE = f"""
SELECT position, stream_id, stream_version, data::text FROM public.events
 WHERE position > $1 AND position <= $2
   AND stream_id LIKE '{PRODUCT_STREAM_PREFIX}%'
   AND (hashtext(stream_id) & 2147483647) % $3 = $4
 ORDER BY position
 LIMIT $5
"""
_PAGE = 2000


class RebuildTakenOver(RuntimeError):
    """Another rebuild reset the checkpoint while this one's shares were folding."""


async def rebuild_in_shares(
    pool: asyncpg.Pool, database_url: str, name: str, *, shares: int
) -> int:
    """Fold the log into ``name``'s rows in ``shares`` processes; returns the product events
    folded (0 after a failed share, the log then being left to the caller's catch-up)."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_checkpoint(conn, name)
        await wipe_product_states(conn)
        await advance_checkpoint(conn, name, REBUILDING)
        last = int(await conn.fetchval(_LAST_POSITION))
    _log.info("product projection wiped; %d processes fold up to position %d", shares, last)
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads and sockets
    with ProcessPoolExecutor(max_workers=shares, mp_context=spawn) as processes:
        results = await asyncio.gather(
            *(
                loop.run_in_executor(processes, fold_share, database_url, share, shares, last)
                for share in range(shares)
            ),
            return_exceptions=True,
        )
    failures = [result for result in results if isinstance(result, BaseException)]
    async with pool.acquire() as conn, conn.transaction():
        if await lock_checkpoint(conn, name) != REBUILDING:
            raise RebuildTakenOver(f"another rebuild of {name} started while this one ran")
        if failures:
            await wipe_product_states(conn)
            await advance_checkpoint(conn, name, 0)
        else:
            await advance_checkpoint(conn, name, last)
    if failures:
        _log.warning("a share of the rebuild failed (%r); replaying in order", failures[0])
        return 0
    return sum(result for result in results if isinstance(result, int))


def fold_share(database_url: str, share: int, shares: int, last: int) -> int:
    """A rebuild process: fold share ``share`` of ``shares`` up to ``last``; returns the
    product events folded. Runs in its own process (see ``rebuild_in_shares``)."""
    # Everything imported so far lives as long as the process: keep it out of every collection.
    gc.freeze()
    return asyncio.run(_fold_share(database_url, share, shares, last))


async def _fold_share(database_url: str, share: int, shares: int, last: int) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        folded, after = 0, 0
        states: dict[str, ProductState] = {}
        while True:
            records = await conn.fetch(_SHARE_PAGE, after, last, shares, share, _PAGE)
            if not records:
                return folded
            rows = [RawEvent(*record) for record in records]
            async with conn.transaction():
                page = await fold_page(conn, rows, states, reached=after)
            if page.failure is not None:
                raise page.failure
            folded += page.applied
            states, after = page.states, rows[-1].position
    finally:
        await conn.close()
