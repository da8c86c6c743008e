"""Request and response bodies. Inputs are bounded and refuse unknown fields."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.commands import GateOutcome, Verdict
from domain.gate_evaluation import GateEvaluation
from domain.identity import DisplayName, Key, ProductId, Reason, RoleName, Subject, Title
from domain.stages import Stage
from domain.state import GateCondition, GateReview, MetricReading, StageVisit

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The domain's own text types, so a request the domain would refuse fails validation here,
# naming the field, instead of inside a handler.
ShortText = Title
LongText = Reason
RequiredText = Annotated[Reason, Field(min_length=1)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        """NUL and unpaired surrogates cannot be stored or encoded; refuse them at the door."""
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and _UNSTORABLE.search(text):
                raise ValueError("text must not contain NUL or unpaired surrogate characters")
        return value


class RegisterProductRequest(_Input):
    id: ProductId
    name: ShortText
    description: LongText = ""
    owner: Subject | None = Field(default=None, description="Owner's subject; default: you.")
    playbook: Key = Field(default="default", description="Name of an installed playbook.")


class EvidenceRequest(_Input):
    requirement: Key
    title: ShortText
    uri: Annotated[str, Field(max_length=2000)] = ""
    summary: LongText = ""


class ChecklistRequest(_Input):
    action: Literal["done", "reopen"]
    note: LongText = Field(default="", description="A note (done) or the reason (reopen).")


class MetricRequest(_Input):
    metric: Key
    value: float = Field(allow_inf_nan=False)
    source: ShortText
    observed_at: datetime | None = None


class ReviewRequest(_Input):
    note: LongText = ""


class SignOffRequest(_Input):
    verdict: Verdict = Field(
        description="approve, reject (reason required) or review (read, neither for nor against)"
    )
    role: RoleName | None = Field(
        default=None, description="Role you sign in; may be left out when you hold only one."
    )
    reason: LongText = ""
    on_behalf_of: Subject | None = Field(
        default=None,
        description="Sign for this person under their active delegation to you.",
    )


class RevokeSignOffRequest(_Input):
    reason: RequiredText


class DecisionRequest(_Input):
    outcome: GateOutcome
    reason: RequiredText
    conditions: list[ShortText] = Field(
        default_factory=list, max_length=20, description="For conditional_go."
    )
    recycle_to: Stage | None = Field(default=None, description="For recycle.")


class ConditionMetRequest(_Input):
    note: LongText = ""


class WaitingRole(BaseModel):
    role: str
    approvals: int
    needed: int
    optional: bool


class EventSummary(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime


class CommandResult(BaseModel):
    product_id: str
    stage: Stage | None
    version: int
    events: list[EventSummary]
    gate: GateEvaluation | None


class PlaybookRef(BaseModel):
    name: str
    version: int
    fingerprint: str


class ProductDetail(BaseModel):
    product_id: str
    name: str
    description: str
    owner: str
    owner_name: str
    stage: Stage
    status: Literal["active", "retired", "killed"]
    version: int
    playbook: PlaybookRef
    history: list[StageVisit]
    gate: GateEvaluation | None
    review: GateReview | None
    waiting_for: list[WaitingRole] = Field(
        default_factory=list, description="Sign-off roles of the open review still short."
    )
    blocked_by: list[str] = Field(
        default_factory=list, description="Why the gate cannot pass now, one line each."
    )
    overdue: bool = Field(
        default=False, description="The open review is past its due date (server time)."
    )
    on_hold: bool = False
    hold_reason: str = ""
    killed_reason: str = ""
    conditions: list[GateCondition] = Field(default_factory=list)
    next_review_alarm: datetime | None = None
    metrics: dict[str, MetricReading]


class ProductSummaryOut(BaseModel):
    product_id: str
    name: str
    owner: str
    owner_name: str
    stage: Stage
    status: str
    playbook_name: str
    playbook_version: int
    stage_entered_at: datetime
    review_open: bool


class ProductList(BaseModel):
    products: list[ProductSummaryOut]


class TrailEvent(BaseModel):
    position: int
    stream_version: int
    event_id: str
    type: str
    recorded_at: datetime
    actor: dict[str, object]
    data: dict[str, object]
    hash: str


class Trail(BaseModel):
    product_id: str
    events: list[TrailEvent]
    next_after: int | None


class UserIn(_Input):
    subject: Subject
    display_name: DisplayName
    roles: list[RoleName] = Field(default_factory=list, max_length=32)


class UserPatch(_Input):
    roles: list[RoleName] | None = Field(default=None, max_length=32)
    disabled: bool | None = None


class UserOut(BaseModel):
    subject: str
    display_name: str
    roles: list[str]
    disabled: bool


class TokenIn(_Input):
    subject: Subject
    label: ShortText = "api"
    expires_in_days: int = Field(default=30, ge=1, le=366)


class TokenIssued(BaseModel):
    token_id: str
    token: str = Field(description="Shown once; store it now.")
    subject: str
    label: str
    expires_at: datetime


class TokenOut(BaseModel):
    token_id: str
    subject: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
