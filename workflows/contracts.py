"""Everything that crosses the product workflow's boundary, as pydantic models.

Clients, the worker and the activities import these; none of them imports workflow internals.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.events import Event
from domain.gate_evaluation import GateEvaluation
from domain.notifications import Notification
from domain.stages import Stage
from domain.state import ProductState

APPEND_PRODUCT_EVENTS = "append_product_events"


def workflow_id_for(product_id: str) -> str:
    return f"product-{product_id}"


def stream_id_for(product_id: str) -> str:
    return f"product-{product_id}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LifecycleOutcome(_Frozen):
    product_id: str
    final_stage: Stage | None
    status: Literal["retired", "killed", "never_registered"]
    events: int


class AppendEventsRequest(_Frozen):
    stream_id: str
    expected_version: int
    events: list[Event]
    correlation: dict[str, str]


class AppendEventsResult(_Frozen):
    first_position: int
    last_position: int
    stream_version: int
    already_stored: bool


class CommandReceipt(_Frozen):
    """What an accepted command answers: the events now durable and where the product stands."""

    product_id: str
    events: list[Event]
    stage: Stage | None
    version: int
    gate: GateEvaluation | None


class AppliedUpdate(_Frozen):
    """An update already applied, with the answer it got, so a client retry of the same update
    id after continue-as-new gets that answer again instead of being applied a second time
    (the server's update-id deduplication does not survive continue-as-new)."""

    update_id: str
    receipt: CommandReceipt


# Our own bound on a run's history, below Temporal's limits, whatever the server suggests.
HISTORY_BOUND = 20_000


class LifecycleStart(_Frozen):
    """The workflow's input; on continue-as-new it carries the state folded so far, the
    recently applied updates and the options the product was started with."""

    product_id: str
    state: ProductState | None = None
    recent_updates: tuple[AppliedUpdate, ...] = ()
    publish_search_attributes: bool = False
    history_bound: int = Field(default=HISTORY_BOUND, ge=10)


class ProductView(_Frozen):
    state: ProductState
    gate: GateEvaluation | None
    next_review_alarm: datetime | None = None
    next_alarm: datetime | None = None  # the earliest of every timer the product waits on


NOTIFY_STAKEHOLDERS = "notify_stakeholders"


class NotifyRequest(_Frozen):
    notifications: list[Notification]
