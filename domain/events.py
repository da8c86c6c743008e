"""What happened, in past tense. Events are the record an auditor reads years later, so each one
says who acted (subject, printed name, role), when (workflow time) and under which playbook."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.commands import GateOutcome, Verdict
from domain.identity import ActorRef, Key, ProductId, Reason, Subject, Title
from domain.kpis import KpiResult
from domain.launch_plan import GoalKind, GtmItemDue
from domain.playbook import Playbook, TimeoutOutcome
from domain.playbook_changes import CriterionChange
from domain.stages import Stage
from domain.sunset import ScheduledCommunication
from domain.thresholds import Comparison


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    schema_version: int = 1
    product_id: ProductId
    occurred_at: datetime
    actor: ActorRef


class ProductRegistered(_Event):
    type: Literal["ProductRegistered"] = "ProductRegistered"
    name: Title
    description: Reason
    owner: Subject
    owner_name: Title
    stage: Stage
    playbook: Playbook  # the whole rule set, so the trail alone proves which rules applied
    playbook_fingerprint: str


class EvidenceSubmitted(_Event):
    type: Literal["EvidenceSubmitted"] = "EvidenceSubmitted"
    gate: Stage
    requirement: Key
    evidence_id: str
    title: Title
    uri: str
    summary: Reason


class ChecklistItemCompleted(_Event):
    type: Literal["ChecklistItemCompleted"] = "ChecklistItemCompleted"
    gate: Stage
    item: Key
    note: Reason
    uri: str = ""


class ChecklistItemReopened(_Event):
    type: Literal["ChecklistItemReopened"] = "ChecklistItemReopened"
    gate: Stage
    item: Key
    reason: Reason


class MetricRecorded(_Event):
    type: Literal["MetricRecorded"] = "MetricRecorded"
    metric: Key
    value: float
    unit: str
    source: str
    observed_at: datetime


class GateReviewRequested(_Event):
    type: Literal["GateReviewRequested"] = "GateReviewRequested"
    gate: Stage
    round: int
    note: Reason
    due_at: datetime | None = None  # requested time + the gate's SLA


class SignOffGiven(_Event):
    """An electronic signature: who (actor, and on whose behalf), when, what it means, why,
    and the hash of the gate state it refers to, so it cannot be moved to other evidence."""

    type: Literal["SignOffGiven"] = "SignOffGiven"
    gate: Stage
    round: int
    verdict: Verdict  # the meaning of the signature
    reason: Reason
    playbook_version: int
    on_behalf_of: ActorRef | None = None
    delegation_id: str | None = None
    gate_state_hash: str = ""


class SignOffRevoked(_Event):
    type: Literal["SignOffRevoked"] = "SignOffRevoked"
    gate: Stage
    round: int
    voter: Subject  # whose vote is withdrawn
    reason: Reason


class GateReviewVoided(_Event):
    """A review round closed without a decision; its sign-offs stay in the trail."""

    type: Literal["GateReviewVoided"] = "GateReviewVoided"
    gate: Stage
    round: int
    reason: Reason


class ApproversReminded(_Event):
    type: Literal["ApproversReminded"] = "ApproversReminded"
    gate: Stage
    round: int
    waiting_roles: tuple[str, ...]
    reminder: int


class ReviewEscalated(_Event):
    type: Literal["ReviewEscalated"] = "ReviewEscalated"
    gate: Stage
    round: int
    to_role: str
    waiting_roles: tuple[str, ...]


class ReviewTimedOut(_Event):
    type: Literal["ReviewTimedOut"] = "ReviewTimedOut"
    gate: Stage
    round: int
    outcome: TimeoutOutcome
    due_at: datetime


class CriterionSnapshot(BaseModel):
    """A gate criterion as it stood when the decision was taken: the 'on what evidence'."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    key: str
    passed: bool
    reason: str


class Condition(BaseModel):
    """An obligation of a Conditional Go, to be met before the next gate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    condition_id: str
    text: str


class GateDecided(_Event):
    type: Literal["GateDecided"] = "GateDecided"
    gate: Stage
    outcome: GateOutcome
    reason: Reason
    automatic: bool
    playbook_version: int
    criteria: tuple[CriterionSnapshot, ...]
    conditions: tuple[Condition, ...] = ()
    recycle_to: Stage | None = None
    gate_state_hash: str = ""


class ConditionMet(_Event):
    type: Literal["ConditionMet"] = "ConditionMet"
    condition_id: str
    note: Reason


class StageEntered(_Event):
    type: Literal["StageEntered"] = "StageEntered"
    stage: Stage
    previous_stage: Stage


class ProductKilled(_Event):
    type: Literal["ProductKilled"] = "ProductKilled"
    stage: Stage
    reason: Reason


class LaunchPlanned(_Event):
    """The GTM checklist instantiated (or re-dated) for a planned launch date."""

    type: Literal["LaunchPlanned"] = "LaunchPlanned"
    launch_at: datetime
    items: tuple[GtmItemDue, ...]
    replanned_from: datetime | None = None


class GtmItemOverdue(_Event):
    type: Literal["GtmItemOverdue"] = "GtmItemOverdue"
    item: Key
    title: Title
    owner_role: str
    due_at: datetime
    reminder: int


class LaunchGoalSet(_Event):
    type: Literal["LaunchGoalSet"] = "LaunchGoalSet"
    metric: Key
    kind: GoalKind
    comparison: Comparison
    target: float
    unit: str
    due_by: datetime


class KpisReviewed(_Event):
    type: Literal["KpisReviewed"] = "KpisReviewed"
    period: int
    period_end: datetime
    results: tuple[KpiResult, ...]


class KpiOffTarget(_Event):
    type: Literal["KpiOffTarget"] = "KpiOffTarget"
    metric: Key
    periods: int
    reason: str


class GateProposedForDecision(_Event):
    """The metrics say the gate may be passed; the deciders are asked, nothing is decided."""

    type: Literal["GateProposedForDecision"] = "GateProposedForDecision"
    gate: Stage
    reason: str


class ExperimentRecorded(_Event):
    type: Literal["ExperimentRecorded"] = "ExperimentRecorded"
    experiment_id: str
    hypothesis: Reason
    variants: tuple[Title, ...]
    result: Reason
    decision: str | None


class SunsetProposed(_Event):
    type: Literal["SunsetProposed"] = "SunsetProposed"
    reason: Reason
    end_of_life: datetime
    communication_plan: Reason
    transition_plan: Reason
    communications: tuple[ScheduledCommunication, ...]


class SunsetCommunicationSent(_Event):
    type: Literal["SunsetCommunicationSent"] = "SunsetCommunicationSent"
    key: Key
    title: Title
    audience: str
    recipient_roles: tuple[str, ...]
    scheduled_for: datetime
    end_of_life: datetime


class RetirementDeferred(_Event):
    """The end-of-life date came but the exit checklist does not hold; tried again later."""

    type: Literal["RetirementDeferred"] = "RetirementDeferred"
    end_of_life: datetime
    unmet: tuple[str, ...]
    retry_at: datetime


class PlaybookAdoptionScheduled(_Event):
    """A newer playbook version waits for the product's next stage."""

    type: Literal["PlaybookAdoptionScheduled"] = "PlaybookAdoptionScheduled"
    playbook: Playbook
    playbook_fingerprint: str
    from_version: int
    reason: Reason


class PlaybookAdopted(_Event):
    """The product runs under another playbook version from here on: at a stage entry, as
    scheduled, or now by migration. `changes` are the current gate's criteria that it changed."""

    type: Literal["PlaybookAdopted"] = "PlaybookAdopted"
    playbook: Playbook
    playbook_fingerprint: str
    from_version: int
    effective: Literal["stage_entry", "now"]
    reason: Reason
    changes: tuple[CriterionChange, ...] = ()


Event = Annotated[
    ProductRegistered
    | EvidenceSubmitted
    | ChecklistItemCompleted
    | ChecklistItemReopened
    | MetricRecorded
    | GateReviewRequested
    | SignOffGiven
    | SignOffRevoked
    | GateReviewVoided
    | ApproversReminded
    | ReviewEscalated
    | ReviewTimedOut
    | GateDecided
    | ConditionMet
    | StageEntered
    | ProductKilled
    | LaunchPlanned
    | GtmItemOverdue
    | LaunchGoalSet
    | KpisReviewed
    | KpiOffTarget
    | GateProposedForDecision
    | ExperimentRecorded
    | SunsetProposed
    | SunsetCommunicationSent
    | RetirementDeferred
    | PlaybookAdoptionScheduled
    | PlaybookAdopted,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
