"""What people ask the product's workflow to do. Each carries the authenticated actor."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.delegation import Delegation
from domain.identity import Actor, Key, ProductId, Reason, RoleName, Subject, Title
from domain.launch_plan import GoalKind
from domain.playbook import Playbook
from domain.stages import Stage
from domain.thresholds import Comparison


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
    uri: Annotated[str, Field(max_length=2000)] = ""  # where the evidence of the work is


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
    """The meaning of an electronic signature, recorded with it. `review` says "I have read
    it" without approving or rejecting: recorded, never counted."""

    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


class GiveSignOff(_Command):
    type: Literal["GiveSignOff"] = "GiveSignOff"
    role: RoleName
    verdict: Verdict
    reason: Reason = ""
    delegation: Delegation | None = None  # set by the edge when signing for someone away


class RevokeSignOff(_Command):
    """Withdraw your own sign-off while the gate is undecided."""

    type: Literal["RevokeSignOff"] = "RevokeSignOff"
    reason: Reason


class GateOutcome(StrEnum):
    """The Stage-Gate vocabulary of decisions."""

    GO = "go"
    CONDITIONAL_GO = "conditional_go"
    KILL = "kill"
    HOLD = "hold"
    RESUME = "resume"
    RECYCLE = "recycle"


class DecideGate(_Command):
    type: Literal["DecideGate"] = "DecideGate"
    outcome: GateOutcome
    reason: Reason
    conditions: tuple[Title, ...] = Field(default=(), max_length=20)  # for conditional_go
    recycle_to: Stage | None = None  # for recycle


class MeetCondition(_Command):
    """Record that a condition of a Conditional Go has been met."""

    type: Literal["MeetCondition"] = "MeetCondition"
    condition_id: Annotated[str, Field(min_length=1, max_length=64)]
    note: Reason = ""


class RemindApprovers(_Command):
    """Sent by the workflow's reminder timer, as the engine itself."""

    type: Literal["RemindApprovers"] = "RemindApprovers"


class EnforceReviewDeadline(_Command):
    """Sent by the workflow's deadline timer, as the engine itself."""

    type: Literal["EnforceReviewDeadline"] = "EnforceReviewDeadline"


class PlanLaunch(_Command):
    """Set or move the planned launch date; the GTM checklist's due dates follow it."""

    type: Literal["PlanLaunch"] = "PlanLaunch"
    launch_at: AwareDatetime


class SetLaunchGoal(_Command):
    """A target growth is measured against: the metric, the bar and the date to reach it."""

    type: Literal["SetLaunchGoal"] = "SetLaunchGoal"
    metric: Key
    kind: GoalKind
    comparison: Comparison
    target: float = Field(allow_inf_nan=False)
    due_by: AwareDatetime


class RecordExperiment(_Command):
    type: Literal["RecordExperiment"] = "RecordExperiment"
    hypothesis: Reason
    variants: tuple[Title, ...] = Field(default=(), max_length=20)
    result: Reason = ""
    decision: Literal["adopt", "iterate", "abandon"] | None = None


class ProposeSunset(_Command):
    """Every part may be left out here so the domain can name exactly which one is missing."""

    type: Literal["ProposeSunset"] = "ProposeSunset"
    reason: Reason = ""
    end_of_life: AwareDatetime | None = None
    communication_plan: Reason = ""
    transition_plan: Reason = ""


class AdoptPlaybook(_Command):
    """Move the product to a newer version of its playbook.

    By default the version applies from the next stage the product enters, so the gate now
    being worked toward keeps the criteria it was opened with; `now` migrates at once, as an
    audited decision that closes any open review round."""

    type: Literal["AdoptPlaybook"] = "AdoptPlaybook"
    playbook: Playbook
    effective: Literal["next_stage", "now"] = "next_stage"
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class RemindOverdueGtmItems(_Command):
    """Sent by the workflow's timer when a GTM checklist item falls due, as the engine itself."""

    type: Literal["RemindOverdueGtmItems"] = "RemindOverdueGtmItems"


class ReviewKpis(_Command):
    """Sent by the workflow's timer once per KPI review period, as the engine itself."""

    type: Literal["ReviewKpis"] = "ReviewKpis"


class RunSunsetSchedule(_Command):
    """Sent by the workflow's timer at each scheduled communication and at the end of life."""

    type: Literal["RunSunsetSchedule"] = "RunSunsetSchedule"


Command = Annotated[
    RegisterProduct
    | SubmitEvidence
    | CompleteChecklistItem
    | ReopenChecklistItem
    | RecordMetric
    | RequestGateReview
    | GiveSignOff
    | RevokeSignOff
    | DecideGate
    | MeetCondition
    | RemindApprovers
    | EnforceReviewDeadline
    | PlanLaunch
    | SetLaunchGoal
    | RecordExperiment
    | ProposeSunset
    | RemindOverdueGtmItems
    | ReviewKpis
    | RunSunsetSchedule
    | AdoptPlaybook,
    Field(discriminator="type"),
]
