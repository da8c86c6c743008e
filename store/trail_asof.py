"""Time travel: a product, or the portfolio board, as it stood at a past instant.

State is a fold of events (``domain.evolve``), so the state at instant T is the fold of the
events recorded at or before T. ``recorded_at`` is the workflow's clock when the event happened,
the same clock every deadline and stage duration is measured with, so "as of T" means what the
workflow would have reported at T. Nothing is cached: the log is the only source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from domain.events import EVENT_ADAPTER
from domain.evolve import evolve
from domain.stages import Stage
from domain.state import ProductState
from store.projections import PRODUCT_STREAM_PREFIX, ProductStatus, ProductSummary
from store.trail import UnreadableEvent, stream_of

__all__ = ["board_as_of", "product_as_of", "states_as_of", "summary_of"]

_PRODUCT = """
SELECT position, data::text AS data FROM public.events
 WHERE stream_id = $1 AND recorded_at <= $2
 ORDER BY stream_version
"""

_PORTFOLIO = f"""
SELECT position, stream_id, data::text AS data FROM public.events
 WHERE stream_id LIKE '{PRODUCT_STREAM_PREFIX}%' AND recorded_at <= $1 AND position > $2
 ORDER BY position
 LIMIT $3
"""

_BATCH = 2000


def _fold(state: ProductState, row: asyncpg.Record) -> ProductState:
    try:
        return evolve(state, EVENT_ADAPTER.validate_json(row["data"]))
    except Exception as error:  # evolve asserts its preconditions; any failure is a bad stream
        raise UnreadableEvent(row["position"], f"{type(error).__name__}: {error}") from error


async def product_as_of(
    pool: asyncpg.Pool | asyncpg.Connection, product_id: str, instant: datetime
) -> ProductState:
    """The product's state folded from its events recorded at or before ``instant``; an
    unregistered state (``is_registered`` false) if it did not exist yet."""
    state = ProductState()
    for row in await pool.fetch(_PRODUCT, stream_of(product_id), instant):
        state = _fold(state, row)
    return state


async def board_as_of(
    pool: asyncpg.Pool | asyncpg.Connection, instant: datetime
) -> list[ProductSummary]:
    """Every product registered by ``instant``, as it stood then, ordered by product id."""
    return [summary_of(state, last) for state, last in await _portfolio_at(pool, instant)]


async def states_as_of(
    pool: asyncpg.Pool | asyncpg.Connection, instant: datetime
) -> list[ProductState]:
    """Every product registered by ``instant``, its whole state as it stood then."""
    return [state for state, _ in await _portfolio_at(pool, instant)]


async def _portfolio_at(
    pool: asyncpg.Pool | asyncpg.Connection, instant: datetime
) -> list[tuple[ProductState, int]]:
    """(state, position of its last event) per registered product, ordered by product id."""
    states: dict[str, ProductState] = {}
    last: dict[str, int] = {}
    after = 0
    while True:
        rows = await pool.fetch(_PORTFOLIO, instant, after, _BATCH)
        for row in rows:
            stream = row["stream_id"]
            states[stream] = _fold(states.get(stream, ProductState()), row)
            last[stream] = row["position"]
        if len(rows) < _BATCH:
            break
        after = rows[-1]["position"]
    return [
        (states[stream], last[stream]) for stream in sorted(states) if states[stream].is_registered
    ]


def _status(stage: Stage) -> ProductStatus:
    if stage is Stage.RETIRED:
        return "retired"
    return "killed" if stage is Stage.KILLED else "active"


def summary_of(state: ProductState, last_position: int) -> ProductSummary:
    """The board line of a folded state (the same line the live projection keeps)."""
    assert state.product_id is not None
    assert state.playbook is not None
    assert state.stage is not None
    assert state.stage_entered_at is not None
    review = state.progress.review if state.progress is not None else None
    fields: dict[str, Any] = {
        "product_id": state.product_id,
        "name": state.name,
        "owner": state.owner,
        "owner_name": state.owner_name,
        "stage": state.stage,
        "status": _status(state.stage),
        "playbook_name": state.playbook.name,
        "playbook_version": state.playbook.version,
        "registered_at": state.history[0].entered_at,
        "stage_entered_at": state.stage_entered_at,
        "review_open": review is not None and review.rejection() is None,
        "last_position": last_position,
    }
    return ProductSummary(**fields)
