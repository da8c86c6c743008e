"""A message to people about a product: which kind, to whom, what it says.

It crosses the workflow, the notify activity, the outbox and the API, so it lives with the
other shared vocabulary here rather than in any one of them.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.stages import Stage

NotificationKind = Literal[
    "approval_requested",
    "reminder",
    "escalation",
    "review_timed_out",
    "review_voided",
    "decision",
    "stage_entered",
    "launch_planned",
    "gtm_item_overdue",
    "kpi_off_target",
    "decision_proposed",
    "sunset_announced",
    "end_of_life_communication",
    "retirement_deferred",
]


class Notification(BaseModel):
    """One message to the people in some roles (and/or named people) about a product.

    `notification_id` is derived from the event that caused it, so a retried delivery is
    recognised and never sent twice."""

    model_config = ConfigDict(frozen=True)

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
