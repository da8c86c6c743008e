"""Gate decisions in the Stage-Gate vocabulary, by people and by the playbook's automatic rules.

Go passes the gate when every criterion holds. Conditional Go passes it once the gatekeepers'
sign-offs hold; each stated condition, and each other criterion still unmet, becomes an
obligation that blocks the next gate until met (never at the final gate, which has no next
one). Kill ends the product. Hold freezes it until Resume. Recycle sends it back to a named
earlier stage (or the current one) to redo the work, closing any open review.
"""

from datetime import datetime

from domain.command_context import CommandContext, NewId
from domain.commands import DecideGate, GateOutcome, MeetCondition, Verdict
from domain.events import (
    Condition,
    ConditionMet,
    CriterionSnapshot,
    Event,
    GateDecided,
    ProductKilled,
    StageEntered,
)
from domain.evolve import evolve_all
from domain.gate_evaluation import CriterionKind, GateEvaluation
from domain.identity import SYSTEM_ACTOR
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import LIFECYCLE_PATH, Stage
from domain.state import ProductState


def decide_gate(context: CommandContext, command: DecideGate) -> list[Event]:
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
    if command.conditions and command.outcome is not GateOutcome.CONDITIONAL_GO:
        raise CommandRefused(
            "decision.conditions_only_for_conditional_go",
            f"conditions belong to a Conditional Go, not to a {command.outcome.value} decision",
            RefusalKind.INVALID,
        )
    if command.recycle_to is not None and command.outcome is not GateOutcome.RECYCLE:
        raise CommandRefused(
            "decision.recycle_to_only_for_recycle",
            f"a target stage belongs to a Recycle, not to a {command.outcome.value} decision",
            RefusalKind.INVALID,
        )
    if command.outcome is GateOutcome.RESUME:
        if not context.state.on_hold:
            raise CommandRefused(
                "decision.not_on_hold",
                f"product '{context.product_id}' is not on hold; there is nothing to resume",
            )
    elif command.outcome is not GateOutcome.KILL:
        context.require_active(f"a {command.outcome.value} decision")
    evaluation = context.evaluation()
    conditions: tuple[Condition, ...] = ()
    match command.outcome:
        case GateOutcome.GO:
            _require_passed(context, evaluation)
        case GateOutcome.CONDITIONAL_GO:
            conditions = _conditions(context, command, evaluation)
        case GateOutcome.HOLD:
            pass
        case GateOutcome.RECYCLE:
            _check_recycle_target(context, command.recycle_to)
        case _:
            pass
    decided = GateDecided(
        **context.stamp(role),
        gate=context.gate_name,
        outcome=command.outcome,
        reason=command.reason,
        automatic=False,
        playbook_version=context.playbook.version,
        criteria=_snapshot(evaluation),
        conditions=conditions,
        recycle_to=command.recycle_to if command.outcome is GateOutcome.RECYCLE else None,
        gate_state_hash=context.state_hash(),
    )
    match command.outcome:
        case GateOutcome.KILL:
            assert context.state.stage is not None
            killed = ProductKilled(
                **context.stamp(role), stage=context.state.stage, reason=command.reason
            )
            return [decided, killed]
        case GateOutcome.GO | GateOutcome.CONDITIONAL_GO:
            return [decided, _enter(context, context.leads_to, role)]
        case GateOutcome.RECYCLE:
            assert command.recycle_to is not None
            voided = context.void_open_review(f"recycled to {command.recycle_to}")
            return [*voided, decided, _enter(context, command.recycle_to, role)]
        case _:
            return [decided]


def _require_passed(context: CommandContext, evaluation: GateEvaluation) -> None:
    if not evaluation.passed:
        unmet = evaluation.unmet()
        raise CommandRefused(
            "gate.criteria_unmet",
            f"gate '{context.gate_name}' cannot pass; {len(unmet)} criteria unmet: "
            + "; ".join(f"{c.title}: {c.reason}" for c in unmet),
        )


def _conditions(
    context: CommandContext, command: DecideGate, evaluation: GateEvaluation
) -> tuple[Condition, ...]:
    if context.leads_to is Stage.RETIRED:
        raise CommandRefused(
            "decision.conditional_go_at_final_gate",
            f"gate '{context.gate_name}' is the final gate; a Conditional Go needs a next gate "
            "to hold its conditions",
        )
    if not command.conditions:
        raise CommandRefused(
            "decision.conditions_required",
            f"a Conditional Go on gate '{context.gate_name}' needs at least one condition",
            RefusalKind.INVALID,
        )
    unsigned = [c for c in evaluation.criteria if c.kind is CriterionKind.SIGN_OFF and not c.passed]
    if unsigned:
        raise CommandRefused(
            "gate.sign_offs_unmet",
            f"a Conditional Go on gate '{context.gate_name}' still needs the sign-offs: "
            + "; ".join(f"{c.title}: {c.reason}" for c in unsigned),
        )
    # Conditions due at this gate and still unmet are carried too: passing the gate they were
    # due at must not let them lapse.
    carried = [f"{c.title}: {c.reason}" for c in evaluation.unmet(ignore_sign_offs=True)]
    origin = f"carried over from gate '{context.gate_name}'"
    texts = [*command.conditions, *(f"{origin}: {text}" for text in carried)]
    return tuple(Condition(condition_id=context.new_id(), text=text[:200]) for text in texts)


def _check_recycle_target(context: CommandContext, target: Stage | None) -> None:
    current = LIFECYCLE_PATH.index(context.gate_name)
    allowed = LIFECYCLE_PATH[: current + 1]
    if target is None or target not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise CommandRefused(
            "decision.recycle_target",
            f"recycle needs a target stage at or before '{context.gate_name}': one of {names}",
            RefusalKind.INVALID,
        )


def meet_condition(context: CommandContext, command: MeetCondition) -> list[Event]:
    context.require_active("meeting a condition")
    condition = next(
        (c for c in context.state.conditions if c.condition_id == command.condition_id), None
    )
    if condition is None:
        raise CommandRefused(
            "condition.unknown",
            f"product '{context.product_id}' has no condition '{command.condition_id}'",
            RefusalKind.INVALID,
        )
    if condition.met_by is not None:
        raise CommandRefused(
            "condition.already_met",
            f"condition '{condition.text}' was already met by {condition.met_by.display_name}",
        )
    if not context.is_owner():
        raise CommandRefused(
            "condition.not_product_owner",
            f"only the product owner ({context.state.owner_name}) records a condition as met",
            RefusalKind.FORBIDDEN,
        )
    return [ConditionMet(**context.stamp(), condition_id=command.condition_id, note=command.note)]


def _enter(context: CommandContext, stage: Stage, role: str | None) -> StageEntered:
    assert context.state.stage is not None
    return StageEntered(**context.stamp(role), stage=stage, previous_stage=context.state.stage)


def _snapshot(evaluation: GateEvaluation) -> tuple[CriterionSnapshot, ...]:
    return tuple(
        CriterionSnapshot(kind=c.kind.value, key=c.key, passed=c.passed, reason=c.reason)
        for c in evaluation.criteria
    )


def _unanimous(context: CommandContext) -> bool:
    review = context.progress.review
    if review is None:
        return not context.gate.sign_offs
    if any(s.verdict is not Verdict.APPROVE for s in review.sign_offs):
        return False
    return all(review.approvals_in(r.role) for r in context.gate.sign_offs)


def automatic_advances(
    state: ProductState, now: datetime, new_id: NewId, *, after_manual: bool = False
) -> list[Event]:
    """The playbook's automatic decisions, in this documented order, after every accepted
    command: (1) nothing while the product is on hold, or right after a person decided this
    gate; (2) `when_criteria_hold` passes the gate once every criterion holds;
    (3) `when_unanimous` passes it once every criterion holds and every sign-off role,
    optional ones included, approved with no other verdict in the round.

    One command may carry a product through several gates that are already satisfied; each
    pass is recorded as the engine's own decision.
    """
    events: list[Event] = []
    if after_manual:
        return events
    while not state.is_terminal and state.is_registered and not state.on_hold:
        context = CommandContext.of(state, SYSTEM_ACTOR, now, new_id)
        rule = context.gate.automatic
        evaluation = context.evaluation()
        if rule == "none" or not evaluation.passed:
            break
        if rule == "when_unanimous" and not _unanimous(context):
            break
        step: list[Event] = [
            GateDecided(
                **context.stamp(),
                gate=context.gate_name,
                outcome=GateOutcome.GO,
                reason=f"every criterion holds; the playbook passes this gate automatically "
                f"({rule.replace('_', ' ')})",
                automatic=True,
                playbook_version=context.playbook.version,
                criteria=_snapshot(evaluation),
                gate_state_hash=context.state_hash(),
            ),
            _enter(context, context.leads_to, None),
        ]
        events.extend(step)
        state = evolve_all(state, step)
    return events
