"""Everything that crosses the product workflow's boundary, as pydantic models.

Clients, the worker and the activities import these; none of them imports workflow internals.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.events import Event
from domain.gate_evaluation import GateEvaluation
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

NotificationKind = Literal[
    "approval_requested",
    "reminder",
    "escalation",
    "review_timed_out",
    "review_voided",
    "decision",
    "stage_entered",
]


class Notification(_Frozen):
    """One message to the people in some roles (and/or named people) about a product.

    `notification_id` is derived from the event that caused it, so a retried delivery is
    recognised and never sent twice."""

    notification_id: str
    kind: NotificationKind
    product_id: str
    product_name: str
    gate: Stage | None = None
    round: int | None = None
    recipient_roles: list[str] = []
    recipient_subjects: list[str] = []
    headline: str
    body: str = ""
    occurred_at: datetime


class NotifyRequest(_Frozen):
    notifications: list[Notification]
