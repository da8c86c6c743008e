"""How rows of the global log become products' projected states, and states ``product_states``
rows: the folding shared by the live projector and the parallel rebuild.

The projection replays the whole log on a rebuild, so this is its hot path: it reads
``RawEvent``s (only what folding needs) and parses each event straight from its stored JSON
text (``validate_json``), without decoding it into a dict or building a ``RecordedEvent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import asyncpg
from pydantic import ValidationError

from domain.events import EVENT_ADAPTER
from domain.evolve import evolve
from domain.stages import Stage
from domain.state import ProductState
from store.events import RawEvent
from store.state_playbooks import keep_playbooks, read_states, stored_state, stored_states

__all__ = [
    "PRODUCT_STREAM_PREFIX",
    "UPSERT_STATE",
    "FoldedPage",
    "ProductStatus",
    "ProjectionError",
    "fold_page",
    "fold_row",
    "fold_rows",
    "product_of",
    "state_row",
    "upsert_states",
]

PRODUCT_STREAM_PREFIX = "product-"
ProductStatus = Literal["active", "retired", "killed"]


_LOAD_STATES = """
SELECT product_id, state::text AS state, playbook_fingerprint, pending_playbook_fingerprint
  FROM public.product_states
 WHERE product_id = ANY($1::text[])
"""
UPSERT_STATE = """
INSERT INTO public.product_states AS p
    (product_id, name, owner, owner_name, stage, status, playbook_name, playbook_version,
     review_open, state, playbook_fingerprint, pending_playbook_fingerprint, registered_at,
     stage_entered_at, last_position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json, $11, $12, $13, $14, $15)
ON CONFLICT (product_id) DO UPDATE SET
    name = EXCLUDED.name,
    owner = EXCLUDED.owner,
    owner_name = EXCLUDED.owner_name,
    stage = EXCLUDED.stage,
    status = EXCLUDED.status,
    playbook_name = EXCLUDED.playbook_name,
    playbook_version = EXCLUDED.playbook_version,
    review_open = EXCLUDED.review_open,
    state = EXCLUDED.state,
    playbook_fingerprint = EXCLUDED.playbook_fingerprint,
    pending_playbook_fingerprint = EXCLUDED.pending_playbook_fingerprint,
    registered_at = EXCLUDED.registered_at,
    stage_entered_at = EXCLUDED.stage_entered_at,
    last_position = EXCLUDED.last_position
"""


class ProjectionError(Exception):
    """An event in a product stream cannot be folded; the projection stops before it."""

    def __init__(self, position: int, stream_id: str, problem: str) -> None:
        super().__init__(f"cannot project event at position {position} ({stream_id}): {problem}")
        self.position = position
        self.stream_id = stream_id
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.position, self.stream_id, self.problem))


class FoldedPage(NamedTuple):
    """What folding a page did: product events applied, the last position folded (the row
    before ``failure`` if one stopped it), the states it left by product, and the failure."""

    applied: int
    reached: int
    states: dict[str, ProductState]
    last_positions: dict[str, int]  # per product touched: the position of its last event
    failure: ProjectionError | None


async def fold_page(
    conn: asyncpg.Connection,
    rows: Sequence[RawEvent],
    states: dict[str, ProductState],
    *,
    reached: int,
) -> FoldedPage:
    """Fold ``rows`` onto the products' states and upsert each product's new row, inside the
    caller's transaction. ``states`` are states already known (the last page's); the others
    are loaded from their rows. Stops at the first event that cannot be folded, keeping what
    came before it; ``reached`` is the position before the page."""
    products = {pid for pid in map(product_of, (row.stream_id for row in rows)) if pid}
    missing = sorted(products - states.keys())
    if missing:
        stored = await conn.fetch(_LOAD_STATES, missing)
        loaded = await read_states(conn, stored_states(stored))
        states.update(zip((row["product_id"] for row in stored), loaded, strict=True))
    folded = fold_rows(rows, states, reached=reached)
    await upsert_states(conn, folded)
    return folded


def fold_rows(
    rows: Sequence[RawEvent], states: dict[str, ProductState], *, reached: int
) -> FoldedPage:
    """Fold ``rows`` onto ``states`` (products not in it start unregistered), without I/O.
    Stops at the first event that cannot be folded, keeping what came before it; the page's
    ``states`` are those it touched, with ``reached`` the last position folded."""
    last_positions: dict[str, int] = {}
    applied, failure = 0, None
    for row in rows:
        product_id = product_of(row.stream_id)
        if product_id is not None:
            try:
                known = states.get(product_id)
                before = ProductState() if known is None else known
                states[product_id] = fold_row(before, row, product_id)
            except ProjectionError as error:
                failure = error
                break
            last_positions[product_id] = row.position
            applied += 1
        reached = row.position
    touched = {pid: states[pid] for pid in sorted(last_positions)}
    return FoldedPage(applied, reached, touched, last_positions, failure)


async def upsert_states(conn: asyncpg.Connection, folded: FoldedPage) -> None:
    """Write the ``product_states`` row of each product the page touched (and first the
    playbooks they name, if not kept yet)."""
    if folded.states:
        kept = await keep_playbooks(conn, folded.states.values())
        rows = [
            state_row(state, folded.last_positions[pid], kept)
            for pid, state in folded.states.items()
        ]
        await conn.executemany(UPSERT_STATE, rows)


def product_of(stream_id: str) -> str | None:
    """The product a stream belongs to; None for streams the projection does not follow."""
    if stream_id.startswith(PRODUCT_STREAM_PREFIX):
        return stream_id[len(PRODUCT_STREAM_PREFIX) :]
    return None


def fold_row(state: ProductState, row: RawEvent, product_id: str) -> ProductState:
    """One event of ``product_id``'s stream onto its state, checking it is the stream's next."""
    where = (row.position, row.stream_id)
    if row.stream_version != state.version + 1:
        raise ProjectionError(
            *where,
            f"stream version {row.stream_version} does not follow the projected "
            f"version {state.version}",
        )
    try:
        event = EVENT_ADAPTER.validate_json(row.data)
    except ValidationError as error:
        raise ProjectionError(*where, f"not a product event: {error}") from error
    if event.product_id != product_id:
        raise ProjectionError(*where, f"event is about product {event.product_id!r}")
    try:
        folded = evolve(state, event)
    except Exception as error:  # evolve asserts its preconditions; any failure is a bad stream
        raise ProjectionError(*where, f"{event.type} cannot be folded: {error!r}") from error
    if folded.product_id is None or folded.playbook is None or folded.stage is None:
        raise ProjectionError(*where, "the stream does not start with ProductRegistered")
    return folded


def state_row(state: ProductState, last_position: int, kept: set[str]) -> tuple[Any, ...]:
    """The ``product_states`` columns for a folded state, in the upsert's parameter order;
    its playbooks whose fingerprints are in ``kept`` are left out of its JSON."""
    assert state.product_id is not None
    assert state.playbook is not None
    assert state.stage is not None
    assert state.stage_entered_at is not None
    stored = stored_state(state, kept)
    return (
        state.product_id,
        state.name,
        state.owner,
        state.owner_name,
        state.stage.value,
        _status(state.stage),
        state.playbook.name,
        state.playbook.version,
        _review_open(state),
        stored.json,
        stored.fingerprint,
        stored.pending_fingerprint,
        state.history[0].entered_at,
        state.stage_entered_at,
        last_position,
    )


def _status(stage: Stage) -> ProductStatus:
    if stage is Stage.RETIRED:
        return "retired"
    if stage is Stage.KILLED:
        return "killed"
    return "active"


def _review_open(state: ProductState) -> bool:
    review = state.progress.review if state.progress is not None else None
    return review is not None and review.rejection() is None
