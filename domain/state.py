"""A product's state: a fold over its events, nothing more."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.commands import Verdict
from domain.identity import ActorRef
from domain.kpis import Experiment, KpiTrack
from domain.launch_plan import LaunchGoal, LaunchPlan
from domain.playbook import Gate, Playbook, TimeoutOutcome
from domain.stages import TERMINAL_STAGES, Stage
from domain.sunset import SunsetPlan


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceRecord(_Frozen):
    evidence_id: str
    requirement: str
    title: str
    uri: str
    summary: str
    submitted_by: ActorRef
    submitted_at: datetime


class ChecklistTick(_Frozen):
    item: str
    done_by: ActorRef
    done_at: datetime
    note: str


class SignOffRecord(_Frozen):
    signer: ActorRef  # who acted; role is the role the signature was given in
    verdict: Verdict
    reason: str
    signed_at: datetime
    on_behalf_of: ActorRef | None = None  # the person away, when a delegate signed

    @property
    def voter(self) -> str:
        """Whose vote this is: the principal when a delegate signed, else the signer."""
        return self.on_behalf_of.subject if self.on_behalf_of else self.signer.subject


class GateReview(_Frozen):
    """One round of asking the gatekeepers. A new round starts with no sign-offs."""

    round: int
    requested_by: ActorRef
    requested_at: datetime
    due_at: datetime | None = None
    sign_offs: tuple[SignOffRecord, ...] = ()
    revoked: tuple[SignOffRecord, ...] = ()
    reminders: int = 0
    escalated_to: str | None = None
    timed_out: TimeoutOutcome | None = None

    def has_signed(self, subject: str) -> bool:
        return any(s.voter == subject for s in self.sign_offs)

    def signature_of(self, subject: str) -> SignOffRecord | None:
        return next((s for s in self.sign_offs if s.voter == subject), None)

    def approvals_in(self, role: str) -> list[SignOffRecord]:
        return [s for s in self.sign_offs if s.signer.role == role and s.verdict is Verdict.APPROVE]

    def rejection(self) -> SignOffRecord | None:
        return next((s for s in self.sign_offs if s.verdict is Verdict.REJECT), None)


class GateProgress(_Frozen):
    """Everything gathered toward the gate that closes stage `gate` since the product entered it."""

    gate: Stage
    evidence: tuple[EvidenceRecord, ...] = ()
    checklist: dict[str, ChecklistTick] = {}
    review: GateReview | None = None
    rounds: int = 0
    closed_reviews: tuple[GateReview, ...] = ()  # voided or rejected rounds, kept for the record

    def evidence_for(self, requirement: str) -> list[EvidenceRecord]:
        return [e for e in self.evidence if e.requirement == requirement]


class MetricReading(_Frozen):
    metric: str
    value: float
    unit: str
    source: str
    observed_at: datetime
    recorded_by: ActorRef


class GateCondition(_Frozen):
    """An obligation from a Conditional Go; it blocks `due_gate` until met."""

    condition_id: str
    text: str
    imposed_at_gate: Stage
    due_gate: Stage
    imposed_at: datetime
    met_by: ActorRef | None = None
    met_at: datetime | None = None
    note: str = ""


class StageVisit(_Frozen):
    stage: Stage
    entered_at: datetime


class ProductState(_Frozen):
    product_id: str | None = None
    name: str = ""
    description: str = ""
    owner: str = ""
    owner_name: str = ""
    playbook: Playbook | None = None
    playbook_fingerprint: str = ""
    # A newer version of the playbook, adopted when the product next enters a stage.
    pending_playbook: Playbook | None = None
    stage: Stage | None = None
    version: int = 0  # number of events folded in: the stream version the store must match
    history: tuple[StageVisit, ...] = ()
    progress: GateProgress | None = None
    metrics: dict[str, MetricReading] = {}
    killed_reason: str = ""
    on_hold: bool = False
    hold_reason: str = ""
    conditions: tuple[GateCondition, ...] = ()
    # The last review round per gate, kept across Recycles so (gate, round) names one round.
    review_rounds: dict[Stage, int] = {}
    launch_plan: LaunchPlan | None = None  # this visit of launch only
    launch_goals: tuple[LaunchGoal, ...] = ()
    kpis: KpiTrack = KpiTrack()
    experiments: tuple[Experiment, ...] = ()
    sunset_plan: SunsetPlan | None = None

    def launch_goal(self, metric: str) -> LaunchGoal | None:
        return next((g for g in self.launch_goals if g.metric == metric), None)

    @property
    def is_registered(self) -> bool:
        return self.product_id is not None

    @property
    def is_terminal(self) -> bool:
        return self.stage in TERMINAL_STAGES

    @property
    def stage_entered_at(self) -> datetime | None:
        return self.history[-1].entered_at if self.history else None

    def current_gate(self) -> Gate | None:
        """The gate that closes the current stage (named after it), None once terminal."""
        if self.stage is None or self.playbook is None or self.is_terminal:
            return None
        return self.playbook.exit_gate(self.stage)

    def conditions_due_at(self, gate: Stage) -> list[GateCondition]:
        return [c for c in self.conditions if c.due_gate == gate]
