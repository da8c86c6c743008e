"""Gate decisions, by people and by the playbook's automatic rules."""

from datetime import datetime

from domain.command_context import CommandContext, NewId
from domain.commands import (
    DecideGate,
    GateOutcome,
)
from domain.events import (
    CriterionSnapshot,
    Event,
    GateDecided,
    ProductKilled,
    StageEntered,
)
from domain.evolve import evolve_all
from domain.gate_evaluation import GateEvaluation
from domain.identity import SYSTEM_ACTOR, Actor
from domain.refusals import CommandRefused, RefusalKind
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


def _enter(context: CommandContext, role: str | None, actor: Actor | None = None) -> StageEntered:
    assert context.state.stage is not None
    return StageEntered(
        **context.stamp(role, actor), stage=context.leads_to, previous_stage=context.state.stage
    )


def _snapshot(evaluation: GateEvaluation) -> tuple[CriterionSnapshot, ...]:
    return tuple(
        CriterionSnapshot(kind=c.kind.value, key=c.key, passed=c.passed, reason=c.reason)
        for c in evaluation.criteria
    )


def automatic_advances(state: ProductState, now: datetime, new_id: NewId) -> list[Event]:
    """Gates marked auto_advance pass on their own the moment every criterion holds.

    Runs after each accepted command, so one command may carry a product through several
    gates that are already satisfied; each pass is recorded as the engine's own decision.
    """
    events: list[Event] = []
    while not state.is_terminal and state.is_registered:
        context = CommandContext.of(state, SYSTEM_ACTOR, now, new_id)
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
