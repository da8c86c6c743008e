"""Everything that crosses the product workflow's boundary, as pydantic models.

Clients, the worker and the activities import these; none of them imports workflow internals.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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


class LifecycleStart(_Frozen):
    """The workflow's input; on continue-as-new it carries the state folded so far."""

    product_id: str
    state: ProductState | None = None


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


class ProductView(_Frozen):
    state: ProductState
    gate: GateEvaluation | None
    next_review_alarm: datetime | None = None


NOTIFY_STAKEHOLDERS = "notify_stakeholders"


class NotifyRequest(_Frozen):
    notifications: list[Notification]
