"""What people are told about launch, growth and sunset events (used by `notices_for`).

Pure and deterministic like the rest of the notices: each id is derived from its event."""

from domain.events import (
    Event,
    GateProposedForDecision,
    GtmItemOverdue,
    KpiOffTarget,
    LaunchPlanned,
    RetirementDeferred,
    StageEntered,
    SunsetCommunicationSent,
)
from domain.notifications import Notification
from domain.stages import Stage
from domain.state import ProductState


def plan_notices(event: Event, state: ProductState) -> list[Notification]:
    assert state.product_id is not None
    common = {
        "product_id": state.product_id,
        "product_name": state.name,
        "notification_id": event.event_id,
        "occurred_at": event.occurred_at,
    }
    name = state.name
    match event:
        case LaunchPlanned():
            owners = sorted({i.owner_role for i in event.items})
            lines = [f"{i.title} ({i.owner_role}): due {i.due_at:%Y-%m-%d}" for i in event.items]
            return [
                Notification(
                    **common,
                    kind="launch_planned",
                    gate=Stage.LAUNCH,
                    recipient_roles=owners,
                    recipient_subjects=[state.owner],
                    headline=f"{name} launches on {event.launch_at:%Y-%m-%d}: the GTM checklist "
                    "has your items and their due dates",
                    body="\n".join(lines),
                )
            ]
        case GtmItemOverdue():
            return [
                Notification(
                    **common,
                    kind="gtm_item_overdue",
                    gate=Stage.LAUNCH,
                    recipient_roles=[event.owner_role],
                    recipient_subjects=[state.owner],
                    headline=f"Overdue (reminder {event.reminder}): '{event.title}' for the launch "
                    f"of {name} was due {event.due_at:%Y-%m-%d}",
                )
            ]
        case KpiOffTarget():
            return [
                Notification(
                    **common,
                    kind="kpi_off_target",
                    recipient_subjects=[state.owner],
                    recipient_roles=_deciders(state),
                    headline=f"{name}: {event.metric} off target for {event.periods} review "
                    "periods in a row",
                    body=event.reason,
                )
            ]
        case GateProposedForDecision():
            return [
                Notification(
                    **common,
                    kind="decision_proposed",
                    gate=event.gate,
                    recipient_roles=_deciders(state),
                    recipient_subjects=[state.owner],
                    headline=f"{name}: the metrics say the {event.gate} gate may be passed; "
                    "please decide",
                    body=event.reason,
                )
            ]
        case StageEntered(stage=Stage.SUNSET) if state.sunset_plan is not None:
            plan = state.sunset_plan
            return [
                Notification(
                    **{**common, "notification_id": f"{event.event_id}:sunset"},
                    kind="sunset_announced",
                    gate=Stage.SUNSET,
                    recipient_roles=_all_roles(state),
                    recipient_subjects=[state.owner],
                    headline=f"{name} will reach its end of life on {plan.end_of_life:%Y-%m-%d}",
                    body=f"{plan.reason}\nMigration: {plan.transition_plan}\n"
                    f"Communication: {plan.communication_plan}",
                )
            ]
        case SunsetCommunicationSent():
            roles = list(event.recipient_roles) or _all_roles(state)
            return [
                Notification(
                    **common,
                    kind="end_of_life_communication",
                    gate=Stage.SUNSET,
                    recipient_roles=roles,
                    recipient_subjects=[state.owner],
                    headline=f"{event.title}: {name} ends on {event.end_of_life:%Y-%m-%d} "
                    f"(to {event.audience})",
                )
            ]
        case RetirementDeferred():
            return [
                Notification(
                    **common,
                    kind="retirement_deferred",
                    gate=Stage.SUNSET,
                    recipient_roles=_deciders(state),
                    recipient_subjects=[state.owner],
                    headline=f"{name} reached its end of life but cannot retire yet; trying again "
                    f"{event.retry_at:%Y-%m-%d %H:%M} UTC",
                    body="\n".join(event.unmet),
                )
            ]
        case _:
            return []


def _deciders(state: ProductState) -> list[str]:
    gate = state.current_gate()
    return list(gate.decider_roles) if gate else []


def _all_roles(state: ProductState) -> list[str]:
    """A sunset concerns everyone the playbook names."""
    return [r.key for r in state.playbook.roles] if state.playbook else []
