"""The product read model: every product's current state, folded from the global log.

The portfolio board and the approvals inbox ask questions across products ("everything in
launch", "every open review"); asking each product's workflow would be a fan-out over Temporal
for every page view. Instead this projection follows the log and keeps one row per product.

Exactly once, with several projectors. Any number of API processes may run ``run()`` against
the same database. Each batch is applied in one transaction that first locks this projection's
checkpoint row ``FOR UPDATE``, applies only events *after* the checkpoint it then sees, and
advances the checkpoint before committing. A second projector waits on the lock, then sees the
advanced checkpoint and skips what was done. The events themselves are read *before* taking the
lock, so a projector never holds one pooled connection while waiting for another (a pool-sized
deadlock), and the lock is held only for the writes.

Following the log by position is safe because positions are gap-free and assigned in commit
order (``store/event_store.py``): nothing can appear later behind the checkpoint.

A product stream event that cannot be parsed or folded stops the projection at that position
with a ``ProjectionError`` rather than being skipped: a read model silently missing a decision
is worse than a stale one, and the fix (new code, then ``rebuild``) needs the event kept.

While a parallel rebuild owns the rows (checkpoint -1, ``store/projection_rebuild.py``), a
projector folds nothing and tries again at its next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.stages import Stage
from domain.state import ProductState
from store.event_store import EventStore
from store.events import RawEvent
from store.parsed_states import ParsedStates
from store.product_fold import (
    PRODUCT_STREAM_PREFIX,
    ProductStatus,
    ProjectionError,
    fold_page,
)
from store.projection_checkpoint import (
    REBUILDING,
    Checkpoint,
    RebuildInProgress,
    advance_checkpoint,
    lock_checkpoint,
    read_checkpoint,
    wipe_product_states,
)
from store.projection_rebuild import RebuildTakenOver, rebuild_in_shares
from store.state_playbooks import read_states, stored_states

__all__ = [
    "PRODUCT_STREAM_PREFIX",
    "ProductProjection",
    "ProductStatus",
    "ProductSummary",
    "ProjectionError",
    "RebuildInProgress",
    "RebuildTakenOver",
]

_log = logging.getLogger(__name__)

_STATUSES: frozenset[str] = frozenset({"active", "retired", "killed"})
_MAX_PAGE = 1000
_MAX_BACKOFF = 30.0
_REBUILD_PAGE = 2000  # a rebuild reads the whole log: fewer, larger pages


class _KeptStates:
    """The states the last applied page left, valid only while the checkpoint row is exactly as
    that page left it: any other write to it (another projector, a rebuild, even one that sets
    the same position again) makes them stale."""

    def __init__(self) -> None:
        self._written_by: str | None = None
        self._states: dict[str, ProductState] = {}

    def take(self, checkpoint: Checkpoint) -> dict[str, ProductState]:
        states = self._states if checkpoint.written_by == self._written_by else {}
        self._written_by, self._states = None, {}
        return states

    def keep(self, written_by: str, states: dict[str, ProductState]) -> None:
        self._written_by, self._states = written_by, states


class ProductSummary(BaseModel):
    """One line of the portfolio board: what a product is, where it stands, since when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str
    name: str
    owner: str
    owner_name: str
    stage: Stage
    status: ProductStatus
    playbook_name: str
    playbook_version: int
    registered_at: datetime
    stage_entered_at: datetime
    review_open: bool
    last_position: int  # the product's latest event in the global log


_SUMMARY_COLUMNS = """product_id, name, owner, owner_name, stage, status, playbook_name,
       playbook_version, registered_at, stage_entered_at, review_open, last_position"""
_GET_STATE = """
SELECT state::text AS state, playbook_fingerprint, pending_playbook_fingerprint
  FROM public.product_states WHERE product_id = $1
"""
_LIST_STATES = """
SELECT product_id, state::text AS state, playbook_fingerprint, pending_playbook_fingerprint
  FROM public.product_states
 WHERE ($1::text IS NULL OR status = $1) AND ($3::text IS NULL OR product_id > $3)
 ORDER BY product_id LIMIT $2
"""
_OPEN_REVIEWS = """
SELECT state::text AS state, playbook_fingerprint, pending_playbook_fingerprint
  FROM public.product_states
 WHERE review_open ORDER BY product_id
"""


def _check_status(status: str | None) -> None:
    if status is not None and status not in _STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(sorted(_STATUSES))}")


class ProductProjection:
    """Keeps ``product_states`` folded up to a checkpoint in the global log, and answers the
    board's and the inbox's questions from it."""

    NAME = "product_states"

    def __init__(self, pool: asyncpg.Pool, event_store: EventStore) -> None:
        self._pool = pool
        self._events = event_store
        self.parsed_states = ParsedStates()

    # -- following the log --------------------------------------------------------------------

    async def catch_up(self, *, batch_size: int = 500) -> int:
        """Apply every event after the checkpoint up to the log's end as found while reading.

        Returns the number of product events this call folded in (events of other streams
        advance the checkpoint but are not counted); 0 when there was nothing new. While one
        page is folded the next is already being read, and the states a page leaves are kept
        for the next one, as long as no other projector moved the checkpoint in between.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        applied = 0
        kept = _KeptStates()
        start = await self.checkpoint()
        rows = await self._read_after(start, batch_size)
        while rows:
            following = (
                asyncio.ensure_future(self._events.read_raw(rows[-1].position, batch_size))
                if len(rows) == batch_size
                else None
            )
            try:
                count, stale = await self._apply(rows, kept)
            except BaseException:
                if following is not None:
                    await asyncio.gather(following, return_exceptions=True)
                raise
            applied += count
            if stale:
                if following is not None:
                    await asyncio.gather(following, return_exceptions=True)
                start = await self.checkpoint()
                rows = await self._read_after(start, batch_size)
            elif following is None:
                return applied
            else:
                rows = await following
        return applied

    async def _read_after(self, checkpoint: int, batch_size: int) -> list[RawEvent]:
        """The events after ``checkpoint``; none while a parallel rebuild owns the rows."""
        if checkpoint == REBUILDING:
            return []
        return await self._events.read_raw(checkpoint, batch_size)

    async def run(self, *, poll_interval: float = 0.25) -> None:
        """Follow the log until cancelled. Failures (a database away, a poison event) are
        logged and retried with exponential backoff up to 30 s, so the projector outlives them
        and resumes from its checkpoint."""
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        delay = poll_interval
        while True:
            try:
                await self.catch_up()
            except ProjectionError:
                _log.exception("product projection stalled; retrying in %.2fs", delay)
            except Exception:
                _log.warning("product projection failed; retrying in %.2fs", delay, exc_info=True)
            else:
                delay = poll_interval
                await asyncio.sleep(poll_interval)
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, max(_MAX_BACKOFF, poll_interval))

    async def rebuild(
        self, *, workers: int = 1, database_url: str | None = None, force: bool = False
    ) -> int:
        """Forget every row and replay the whole log; returns the product events applied.

        Use after changing how events fold. While it replays, readers see the projection
        refill from empty. With one worker, concurrent projectors join in through the same
        checkpoint lock. With more, ``workers`` processes connecting to ``database_url`` each
        fold a share of the products while other projectors wait (``store.projection_rebuild``),
        and this process then catches up with what was appended meanwhile. A rebuild refuses to
        start while a parallel one owns the rows (``RebuildInProgress``) unless ``force``d to
        take over from one that was interrupted.
        """
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if workers > 1:
            if database_url is None:
                raise ValueError("a rebuild with several workers needs the database_url")
            folded = await rebuild_in_shares(
                self._pool, database_url, self.NAME, shares=workers, force=force
            )
            return folded + await self.catch_up(batch_size=_REBUILD_PAGE)
        async with self._pool.acquire() as conn, conn.transaction():
            checkpoint = await lock_checkpoint(conn, self.NAME)
            if checkpoint.position == REBUILDING and not force:
                raise RebuildInProgress(self.NAME, checkpoint.rebuild_id)
            await wipe_product_states(conn)
            await advance_checkpoint(conn, self.NAME, 0)
        _log.info("product projection wiped; replaying the log")
        return await self.catch_up(batch_size=_REBUILD_PAGE)

    async def checkpoint(self) -> int:
        """The last global log position the rows include (0 before the first event, -1 while a
        parallel rebuild owns the rows)."""
        return await read_checkpoint(self._pool, self.NAME)

    async def _apply(self, rows: Sequence[RawEvent], kept: _KeptStates) -> tuple[int, bool]:
        """Fold ``rows`` (read without the lock) in one transaction under the checkpoint lock.

        Returns (product events applied, stale). Stale means the rows read do not continue
        the checkpoint found under the lock (a rebuild reset it), so the caller must read again.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            checkpoint = await lock_checkpoint(conn, self.NAME)
            states = kept.take(checkpoint)
            position = checkpoint.position
            fresh = [row for row in rows if row.position > position]
            if not fresh:
                return 0, False  # another projector got here first
            if position == REBUILDING or fresh[0].position != position + 1:
                return 0, True
            folded = await fold_page(conn, fresh, states, reached=position)
            written_by = checkpoint.written_by
            if folded.reached > position:
                written_by = await advance_checkpoint(conn, self.NAME, folded.reached)
        if folded.failure is not None:
            raise folded.failure
        kept.keep(written_by, folded.states)
        return folded.applied, False

    # -- reading --------------------------------------------------------------------------------

    async def list_products(
        self,
        *,
        stage: Stage | None = None,
        status: str | None = None,
        owner: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ProductSummary]:
        """Products matching every filter given, ordered by product id, one page at a time."""
        if not 1 <= limit <= _MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {_MAX_PAGE}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        _check_status(status)
        conditions: list[str] = []
        args: list[Any] = []
        # Each filter is a fixed SQL fragment with a parameter; values never enter the text.
        for column, value in (
            ("stage", None if stage is None else Stage(stage).value),
            ("status", status),
            ("owner", owner),
        ):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        args.extend((limit, offset))
        query = (
            f"SELECT {_SUMMARY_COLUMNS} FROM public.product_states {where} "
            f"ORDER BY product_id LIMIT ${len(args) - 1} OFFSET ${len(args)}"
        )
        rows = await self._pool.fetch(query, *args)
        return [ProductSummary(**dict(row)) for row in rows]

    async def list_states(
        self, *, status: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[ProductState]:
        """One page of whole states: the products with ``status`` (any, if None) whose id sorts
        after ``after`` (from the first, if None), ordered by product id, in one query. The
        board, the inbox and a rollout read the whole portfolio through ``every_state``."""
        if not 1 <= limit <= _MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {_MAX_PAGE}, got {limit}")
        _check_status(status)
        rows = await self._pool.fetch(_LIST_STATES, status, limit, after)
        return await read_states(self._pool, stored_states(rows))

    async def every_state(
        self, *, status: str | None = None, page_size: int = _MAX_PAGE
    ) -> list[ProductState]:
        """Every product's state with ``status`` (any, if None), ordered by product id, read
        a page at a time: the board, the inbox and a playbook rollout must see the whole
        portfolio, however large, not its first page. The pages share one snapshot, so a
        rebuild or a catch-up between them cannot cut or repeat the list. Only rows written
        since the last call are parsed again (``store/parsed_states.py``)."""
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        _check_status(status)
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await self.parsed_states.read(conn, status, page_size)

    async def get_state(self, product_id: str) -> ProductState | None:
        """The product's state as of the checkpoint, or None if no event of it is projected."""
        row = await self._pool.fetchrow(_GET_STATE, product_id)
        return None if row is None else (await read_states(self._pool, stored_states([row])))[0]

    async def states_with_open_reviews(self) -> list[ProductState]:
        """Products whose gate review awaits sign-offs (no rejection yet): the inbox's input,
        which ``domain.approvals.sign_offs_awaiting`` narrows to one person."""
        rows = await self._pool.fetch(_OPEN_REVIEWS)
        return await read_states(self._pool, stored_states(rows))
