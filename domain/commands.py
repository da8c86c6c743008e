"""What people ask the product's workflow to do. Each carries the authenticated actor."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.identity import Actor, Key, ProductId, Reason, RoleName, Subject, Title
from domain.playbook import Playbook


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor


class RegisterProduct(_Command):
    type: Literal["RegisterProduct"] = "RegisterProduct"
    product_id: ProductId
    name: Title
    description: Reason = ""
    owner: Subject
    owner_name: Title
    playbook: Playbook


class SubmitEvidence(_Command):
    type: Literal["SubmitEvidence"] = "SubmitEvidence"
    requirement: Key
    title: Title
    uri: Annotated[str, Field(max_length=2000)] = ""
    summary: Reason = ""


class CompleteChecklistItem(_Command):
    type: Literal["CompleteChecklistItem"] = "CompleteChecklistItem"
    item: Key
    note: Reason = ""


class ReopenChecklistItem(_Command):
    type: Literal["ReopenChecklistItem"] = "ReopenChecklistItem"
    item: Key
    reason: Reason


class RecordMetric(_Command):
    type: Literal["RecordMetric"] = "RecordMetric"
    metric: Key
    value: float = Field(allow_inf_nan=False)
    source: Annotated[str, Field(min_length=1, max_length=200)]
    # Aware only: a naive time cannot be compared with workflow time, nor placed on a timeline.
    observed_at: AwareDatetime | None = None


class RequestGateReview(_Command):
    type: Literal["RequestGateReview"] = "RequestGateReview"
    note: Reason = ""


class Verdict(StrEnum):
    """The meaning of an electronic signature, recorded with it."""

    APPROVE = "approve"
    REJECT = "reject"


class GiveSignOff(_Command):
    type: Literal["GiveSignOff"] = "GiveSignOff"
    role: RoleName
    verdict: Verdict
    reason: Reason = ""


class GateOutcome(StrEnum):
    GO = "go"
    KILL = "kill"


class DecideGate(_Command):
    type: Literal["DecideGate"] = "DecideGate"
    outcome: GateOutcome
    reason: Reason


Command = Annotated[
    RegisterProduct
    | SubmitEvidence
    | CompleteChecklistItem
    | ReopenChecklistItem
    | RecordMetric
    | RequestGateReview
    | GiveSignOff
    | DecideGate,
    Field(discriminator="type"),
]
