"""How one row of the global log becomes part of a product's projected state, and how a state
becomes a ``product_states`` row.

The projection replays the whole log on a rebuild, so this is its hot path: it reads
``RawEvent``s (only what folding needs) and parses each event straight from its stored JSON
text (``validate_json``), without decoding it into a dict or building a ``RecordedEvent``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

from domain.events import EVENT_ADAPTER
from domain.evolve import evolve
from domain.stages import Stage
from domain.state import ProductState
from store.events import RawEvent

__all__ = [
    "PRODUCT_STREAM_PREFIX",
    "ProductStatus",
    "ProjectionError",
    "fold_row",
    "product_of",
    "state_row",
]

PRODUCT_STREAM_PREFIX = "product-"
ProductStatus = Literal["active", "retired", "killed"]


class ProjectionError(Exception):
    """An event in a product stream cannot be folded; the projection stops before it."""

    def __init__(self, position: int, stream_id: str, problem: str) -> None:
        super().__init__(f"cannot project event at position {position} ({stream_id}): {problem}")
        self.position = position
        self.stream_id = stream_id
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.position, self.stream_id, self.problem))


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


def state_row(state: ProductState, last_position: int) -> tuple[Any, ...]:
    """The ``product_states`` columns for a folded state, in the upsert's parameter order."""
    assert state.product_id is not None
    assert state.playbook is not None
    assert state.stage is not None
    assert state.stage_entered_at is not None
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
        state.model_dump_json(),
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
