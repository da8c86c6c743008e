"""Sunset: a plan before the gate, then the end-of-life clock. The product is announced, the
scheduled communications go out on their dates, and on the end-of-life date the engine retires
it if the exit checklist holds (the Go on the plan was the decision; the date carries it out).
If the checklist does not hold, that is recorded and retried after the playbook's interval."""

from datetime import datetime

from domain.command_context import CommandContext
from domain.commands import GateOutcome, ProposeSunset, RunSunsetSchedule
from domain.events import (
    CriterionSnapshot,
    Event,
    GateDecided,
    RetirementDeferred,
    StageEntered,
    SunsetCommunicationSent,
    SunsetProposed,
)
from domain.playbook_sections import SunsetPolicy
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import Stage
from domain.state import ProductState
from domain.sunset import schedule


def _policy(context: CommandContext) -> SunsetPolicy:
    return context.playbook.sunset or SunsetPolicy()


def propose_sunset(context: CommandContext, command: ProposeSunset) -> list[Event]:
    context.require_active("proposing a sunset")
    if context.gate_name is not Stage.MATURITY:
        raise CommandRefused(
            "sunset.not_in_maturity",
            f"a sunset is proposed from maturity; product '{context.product_id}' is in "
            f"{context.gate_name}",
        )
    context.require_owner_or_decider("propose a sunset", "sunset.not_permitted")
    missing = [
        part
        for part, given in (
            ("reason", command.reason),
            ("end-of-life date", command.end_of_life),
            ("customer communication plan", command.communication_plan),
            ("migration/transition plan", command.transition_plan),
        )
        if not given
    ]
    if missing:
        raise CommandRefused(
            "sunset.plan_incomplete",
            f"the sunset plan for product '{context.product_id}' is missing: {', '.join(missing)}",
            RefusalKind.INVALID,
        )
    assert command.end_of_life is not None
    policy = _policy(context)
    earliest = context.now + policy.min_notice
    if command.end_of_life < earliest:
        raise CommandRefused(
            "sunset.notice_too_short",
            f"end of life {command.end_of_life.date().isoformat()} gives customers less than the "
            f"{policy.min_notice.days} days' notice the playbook asks; the earliest is "
            f"{earliest.date().isoformat()}",
            RefusalKind.INVALID,
        )
    return [
        *context.void_open_review("the sunset plan changed"),
        SunsetProposed(
            **context.stamp(),
            reason=command.reason,
            end_of_life=command.end_of_life,
            communication_plan=command.communication_plan,
            transition_plan=command.transition_plan,
            communications=schedule(policy, command.end_of_life),
        ),
    ]


def next_sunset_alarm(state: ProductState) -> datetime | None:
    """The next communication or the retirement attempt, during sunset with a plan."""
    plan = state.sunset_plan
    if state.stage is not Stage.SUNSET or plan is None or state.on_hold:
        return None
    moments = [plan.retire_at]
    communication = plan.next_communication_at()
    if communication is not None:
        moments.append(communication)
    return min(moments)


def run_schedule(context: CommandContext, command: RunSunsetSchedule) -> list[Event]:
    plan = context.state.sunset_plan
    if context.gate_name is not Stage.SUNSET or plan is None or context.state.on_hold:
        return []
    events: list[Event] = [
        SunsetCommunicationSent(
            **context.stamp(),
            key=message.key,
            title=message.title,
            audience=message.audience,
            recipient_roles=message.recipient_roles,
            scheduled_for=message.send_at,
            end_of_life=plan.end_of_life,
        )
        for message in plan.due_communications(context.now)
    ]
    if context.now < plan.retire_at:
        return events
    evaluation = context.evaluation()
    unmet = evaluation.unmet(ignore_sign_offs=True)
    if unmet:
        retry_at = context.now + _policy(context).retry_every
        return [
            *events,
            RetirementDeferred(
                **context.stamp(),
                end_of_life=plan.end_of_life,
                unmet=tuple(f"{c.title}: {c.reason}" for c in unmet),
                retry_at=retry_at,
            ),
        ]
    criteria = tuple(
        CriterionSnapshot(kind=c.kind.value, key=c.key, passed=c.passed, reason=c.reason)
        for c in evaluation.criteria
    )
    return [
        *events,
        GateDecided(
            **context.stamp(),
            gate=Stage.SUNSET,
            outcome=GateOutcome.GO,
            reason=f"end of life {plan.end_of_life.date().isoformat()} reached and the exit "
            "checklist holds; the sunset plan approved at the maturity gate retires the product",
            automatic=True,
            playbook_version=context.playbook.version,
            criteria=criteria,
            gate_state_hash=context.state_hash(),
        ),
        StageEntered(**context.stamp(), stage=Stage.RETIRED, previous_stage=Stage.SUNSET),
    ]
