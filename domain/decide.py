"""decide(state, command, now, new_id) -> events: every business rule of the lifecycle.

Pure: the caller supplies the time and an id factory, so the workflow (deterministic ids from
`workflow.uuid4()`), unit tests and the update validators' dry runs all get the same answer.
"""

from collections.abc import Callable
from datetime import datetime

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GateOutcome,
    GiveSignOff,
    RecordMetric,
    RegisterProduct,
    ReopenChecklistItem,
    RequestGateReview,
    SubmitEvidence,
    Verdict,
)
from domain.events import (
    ChecklistItemCompleted,
    ChecklistItemReopened,
    CriterionSnapshot,
    Event,
    EvidenceSubmitted,
    GateDecided,
    GateReviewRequested,
    MetricRecorded,
    ProductKilled,
    ProductRegistered,
    SignOffGiven,
    StageEntered,
)
from domain.evolve import evolve_all
from domain.gate_evaluation import GateEvaluation, evaluate_gate
from domain.identity import SYSTEM_ACTOR, Actor, attribution
from domain.playbook import Gate, Playbook
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import LIFECYCLE_PATH, Stage, next_stage
from domain.state import GateProgress, ProductState

NewId = Callable[[], str]


def decide(state: ProductState, command: Command, now: datetime, new_id: NewId) -> list[Event]:
    if isinstance(command, RegisterProduct):
        events = _register(state, command, now, new_id)
        return events + _automatic_advances(evolve_all(state, events), now, new_id)
    context = _Context.of(state, command.actor, now, new_id)
    match command:
        case SubmitEvidence():
            events = _submit_evidence(context, command)
        case CompleteChecklistItem():
            events = _complete_checklist_item(context, command)
        case ReopenChecklistItem():
            events = _reopen_checklist_item(context, command)
        case RecordMetric():
            events = _record_metric(context, command)
        case RequestGateReview():
            events = _request_review(context, command)
        case GiveSignOff():
            events = _give_sign_off(context, command)
        case DecideGate():
            events = _decide_gate(context, command)
    return events + _automatic_advances(evolve_all(state, events), now, new_id)


class _Context:
    """The product as a command finds it: registered, still active, working toward a gate."""

    def __init__(
        self,
        state: ProductState,
        actor: Actor,
        now: datetime,
        new_id: NewId,
        gate_name: Stage,
        gate: Gate,
        progress: GateProgress,
        playbook: Playbook,
    ) -> None:
        self.state, self.actor, self.now, self.new_id = state, actor, now, new_id
        self.gate_name, self.gate, self.progress, self.playbook = (
            gate_name,
            gate,
            progress,
            playbook,
        )

    @classmethod
    def of(cls, state: ProductState, actor: Actor, now: datetime, new_id: NewId) -> "_Context":
        if not state.is_registered:
            raise CommandRefused(
                "product.not_registered", "product is not registered", RefusalKind.NOT_FOUND
            )
        gate = state.current_gate()
        if state.is_terminal or gate is None or state.progress is None:
            raise CommandRefused(
                "product.closed",
                f"product '{state.product_id}' is {state.stage}; it accepts no further commands",
            )
        assert state.playbook is not None
        assert state.stage is not None
        return cls(state, actor, now, new_id, state.stage, gate, state.progress, state.playbook)

    @property
    def product_id(self) -> str:
        assert self.state.product_id is not None
        return self.state.product_id

    def stamp(self, role: str | None = None, actor: Actor | None = None) -> dict[str, object]:
        """Fields every event carries: a fresh id, the product, workflow time and attribution."""
        return {
            "event_id": self.new_id(),
            "product_id": self.product_id,
            "occurred_at": self.now,
            "actor": attribution(actor or self.actor, role),
        }

    @property
    def leads_to(self) -> Stage:
        following = next_stage(self.gate_name)
        assert following is not None
        return following

    def evaluation(self) -> GateEvaluation:
        return evaluate_gate(self.gate_name, self.gate, self.progress, self.state)

    def is_owner(self) -> bool:
        return self.actor.subject == self.state.owner


def _register(
    state: ProductState, command: RegisterProduct, now: datetime, new_id: NewId
) -> list[Event]:
    if state.is_registered:
        raise CommandRefused(
            "product.already_registered",
            f"product '{state.product_id}' is already registered (stage {state.stage})",
        )
    first_stage = LIFECYCLE_PATH[0]
    return [
        ProductRegistered(
            event_id=new_id(),
            product_id=command.product_id,
            occurred_at=now,
            actor=attribution(command.actor),
            name=command.name,
            description=command.description,
            owner=command.owner,
            owner_name=command.owner_name,
            stage=first_stage,
            playbook=command.playbook,
            playbook_fingerprint=command.playbook.fingerprint(),
        )
    ]


def _submit_evidence(context: _Context, command: SubmitEvidence) -> list[Event]:
    if context.gate.evidence_requirement(command.requirement) is None:
        asked = ", ".join(r.key for r in context.gate.evidence) or "no evidence"
        raise CommandRefused(
            "evidence.unknown_requirement",
            f"gate '{context.gate_name}' has no evidence requirement '{command.requirement}'; "
            f"it asks for: {asked}",
            RefusalKind.INVALID,
        )
    return [
        EvidenceSubmitted(
            **context.stamp(),
            gate=context.gate_name,
            requirement=command.requirement,
            evidence_id=context.new_id(),
            title=command.title,
            uri=command.uri,
            summary=command.summary,
        )
    ]


def _checklist_owner_role(context: _Context, item_key: str) -> str:
    item = context.gate.checklist_item(item_key)
    if item is None:
        listed = ", ".join(i.key for i in context.gate.checklist) or "no checklist items"
        raise CommandRefused(
            "checklist.unknown_item",
            f"gate '{context.gate_name}' has no checklist item '{item_key}'; it lists: {listed}",
            RefusalKind.INVALID,
        )
    if not (context.actor.holds(item.owner_role) or context.is_owner()):
        raise CommandRefused(
            "checklist.not_item_owner",
            f"checklist item '{item_key}' belongs to role '{item.owner_role}' or the product "
            f"owner; {context.actor.display_name} is neither",
            RefusalKind.FORBIDDEN,
        )
    return item.owner_role


def _complete_checklist_item(context: _Context, command: CompleteChecklistItem) -> list[Event]:
    role = _checklist_owner_role(context, command.item)
    done = context.progress.checklist.get(command.item)
    if done is not None:
        raise CommandRefused(
            "checklist.already_done",
            f"checklist item '{command.item}' was already done by {done.done_by.display_name}",
        )
    acting_role = role if context.actor.holds(role) else None
    return [
        ChecklistItemCompleted(
            **context.stamp(acting_role),
            gate=context.gate_name,
            item=command.item,
            note=command.note,
        )
    ]


def _reopen_checklist_item(context: _Context, command: ReopenChecklistItem) -> list[Event]:
    role = _checklist_owner_role(context, command.item)
    if command.item not in context.progress.checklist:
        raise CommandRefused(
            "checklist.not_done", f"checklist item '{command.item}' is not done; nothing to reopen"
        )
    if not command.reason:
        raise CommandRefused(
            "checklist.reason_required",
            f"reopening checklist item '{command.item}' needs a reason",
            RefusalKind.INVALID,
        )
    acting_role = role if context.actor.holds(role) else None
    return [
        ChecklistItemReopened(
            **context.stamp(acting_role),
            gate=context.gate_name,
            item=command.item,
            reason=command.reason,
        )
    ]


def _record_metric(context: _Context, command: RecordMetric) -> list[Event]:
    definition = context.playbook.metric(command.metric)
    if definition is None:
        known = ", ".join(m.key for m in context.playbook.metrics) or "none"
        raise CommandRefused(
            "metric.unknown",
            f"playbook '{context.playbook.name}' defines no metric '{command.metric}'; "
            f"known metrics: {known}",
            RefusalKind.INVALID,
        )
    observed_at = command.observed_at or context.now
    if observed_at > context.now:
        raise CommandRefused(
            "metric.observed_in_future",
            f"metric '{command.metric}' observation time {observed_at.isoformat()} is in the "
            "future",
            RefusalKind.INVALID,
        )
    return [
        MetricRecorded(
            **context.stamp(),
            metric=command.metric,
            value=command.value,
            unit=definition.unit,
            source=command.source,
            observed_at=observed_at,
        )
    ]


def _request_review(context: _Context, command: RequestGateReview) -> list[Event]:
    if not context.is_owner():
        raise CommandRefused(
            "review.not_product_owner",
            f"only the product owner ({context.state.owner_name}) may request a review of gate "
            f"'{context.gate_name}'",
            RefusalKind.FORBIDDEN,
        )
    if not context.gate.sign_offs:
        raise CommandRefused(
            "review.not_needed",
            f"gate '{context.gate_name}' needs no sign-offs; a gatekeeper decides it directly",
        )
    review = context.progress.review
    if review is not None and review.rejection() is None:
        raise CommandRefused(
            "review.already_open",
            f"review round {review.round} of gate '{context.gate_name}' is already open",
        )
    unmet = context.evaluation().unmet(ignore_sign_offs=True)
    if unmet:
        raise CommandRefused(
            "review.criteria_unmet",
            f"gate '{context.gate_name}' is not ready for review; {len(unmet)} criteria unmet: "
            + "; ".join(f"{c.title}: {c.reason}" for c in unmet),
        )
    return [
        GateReviewRequested(
            **context.stamp(),
            gate=context.gate_name,
            round=context.progress.rounds + 1,
            note=command.note,
        )
    ]


def _give_sign_off(context: _Context, command: GiveSignOff) -> list[Event]:
    review = context.progress.review
    if review is None:
        raise CommandRefused(
            "signoff.no_open_review",
            f"gate '{context.gate_name}' has no open review; the product owner requests one first",
        )
    requirement = context.gate.sign_off_requirement(command.role)
    if requirement is None:
        asked = ", ".join(s.role for s in context.gate.sign_offs)
        raise CommandRefused(
            "signoff.role_not_required",
            f"gate '{context.gate_name}' asks no sign-off from role '{command.role}'; "
            f"it asks: {asked}",
            RefusalKind.INVALID,
        )
    if not context.actor.holds(command.role):
        raise CommandRefused(
            "signoff.role_not_held",
            f"{context.actor.display_name} does not hold role '{command.role}'",
            RefusalKind.FORBIDDEN,
        )
    if review.requested_by.subject == context.actor.subject:
        raise CommandRefused(
            "signoff.self_approval",
            f"{context.actor.display_name} requested this review of gate '{context.gate_name}' and "
            "may not sign it",
            RefusalKind.FORBIDDEN,
        )
    if review.has_signed(context.actor.subject):
        raise CommandRefused(
            "signoff.duplicate_vote",
            f"{context.actor.display_name} already signed review round {review.round} of gate "
            f"'{context.gate_name}'; one vote per person",
        )
    rejection = review.rejection()
    if rejection is not None:
        raise CommandRefused(
            "signoff.round_rejected",
            f"review round {review.round} of gate '{context.gate_name}' was rejected by "
            f"{rejection.signer.display_name}; a new review must be requested",
        )
    if command.verdict is Verdict.REJECT and not command.reason:
        raise CommandRefused(
            "signoff.reason_required",
            f"rejecting gate '{context.gate_name}' needs a reason",
            RefusalKind.INVALID,
        )
    return [
        SignOffGiven(
            **context.stamp(command.role),
            gate=context.gate_name,
            round=review.round,
            verdict=command.verdict,
            reason=command.reason,
            playbook_version=context.playbook.version,
        )
    ]


def _decide_gate(context: _Context, command: DecideGate) -> list[Event]:
    role = next((r for r in context.gate.decider_roles if context.actor.holds(r)), None)
    if role is None:
        raise CommandRefused(
            "decision.role_not_held",
            f"deciding gate '{context.gate_name}' needs role "
            f"{' or '.join(repr(r) for r in context.gate.decider_roles)}; "
            f"{context.actor.display_name} holds none",
            RefusalKind.FORBIDDEN,
        )
    if not command.reason:
        raise CommandRefused(
            "decision.reason_required",
            f"a {command.outcome.value} decision on gate '{context.gate_name}' needs a reason",
            RefusalKind.INVALID,
        )
    evaluation = context.evaluation()
    if command.outcome is GateOutcome.GO and not evaluation.passed:
        unmet = evaluation.unmet()
        raise CommandRefused(
            "gate.criteria_unmet",
            f"gate '{context.gate_name}' cannot pass; {len(unmet)} criteria unmet: "
            + "; ".join(f"{c.title}: {c.reason}" for c in unmet),
        )
    decided = GateDecided(
        **context.stamp(role),
        gate=context.gate_name,
        outcome=command.outcome,
        reason=command.reason,
        automatic=False,
        playbook_version=context.playbook.version,
        criteria=_snapshot(evaluation),
    )
    if command.outcome is GateOutcome.KILL:
        assert context.state.stage is not None
        killed = ProductKilled(
            **context.stamp(role), stage=context.state.stage, reason=command.reason
        )
        return [decided, killed]
    return [decided, _enter(context, role)]


def _enter(context: _Context, role: str | None, actor: Actor | None = None) -> StageEntered:
    assert context.state.stage is not None
    return StageEntered(
        **context.stamp(role, actor), stage=context.leads_to, previous_stage=context.state.stage
    )


def _snapshot(evaluation: GateEvaluation) -> tuple[CriterionSnapshot, ...]:
    return tuple(
        CriterionSnapshot(kind=c.kind.value, key=c.key, passed=c.passed, reason=c.reason)
        for c in evaluation.criteria
    )


def _automatic_advances(state: ProductState, now: datetime, new_id: NewId) -> list[Event]:
    """Gates marked auto_advance pass on their own the moment every criterion holds.

    Runs after each accepted command, so one command may carry a product through several
    gates that are already satisfied; each pass is recorded as the engine's own decision.
    """
    events: list[Event] = []
    while not state.is_terminal and state.is_registered:
        context = _Context.of(state, SYSTEM_ACTOR, now, new_id)
        if not context.gate.auto_advance:
            break
        evaluation = context.evaluation()
        if not evaluation.passed:
            break
        step: list[Event] = [
            GateDecided(
                **context.stamp(),
                gate=context.gate_name,
                outcome=GateOutcome.GO,
                reason="every criterion holds; the playbook lets this gate pass automatically",
                automatic=True,
                playbook_version=context.playbook.version,
                criteria=_snapshot(evaluation),
            ),
            _enter(context, None),
        ]
        events.extend(step)
        state = evolve_all(state, step)
    return events
