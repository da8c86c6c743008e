"""Which decided events people hear about, and what they are told.

Pure and deterministic (the workflow runs it): each notification's id is derived from the event
that caused it, so the notify activity recognises a retry and never tells anyone twice.
"""

from domain.events import (
    ApproversReminded,
    Event,
    GateDecided,
    GateReviewRequested,
    GateReviewVoided,
    ReviewEscalated,
    ReviewTimedOut,
    StageEntered,
)
from domain.notifications import Notification
from domain.state import ProductState
from workflows.plan_notices import plan_notices


def notices_for(events: list[Event], state: ProductState) -> list[Notification]:
    """`state` is the product after the events, for its name, owner and gate."""
    assert state.product_id is not None
    gate = state.current_gate()
    required = [s.role for s in gate.sign_offs] if gate else []
    base = {"product_id": state.product_id, "product_name": state.name}
    notices: list[Notification] = []
    for event in events:
        common = {**base, "notification_id": f"{event.event_id}", "occurred_at": event.occurred_at}
        match event:
            case GateReviewRequested():
                # One approval request per role the gate asks, each its own notification.
                due = f"; due {event.due_at:%Y-%m-%d %H:%M} UTC" if event.due_at else ""
                for role in required:
                    notices.append(
                        Notification(
                            **{**common, "notification_id": f"{event.event_id}:{role}"},
                            kind="approval_requested",
                            gate=event.gate,
                            round=event.round,
                            recipient_roles=[role],
                            headline=f"{state.name}: your sign-off as {role} is requested on "
                            f"the {event.gate} gate (round {event.round}){due}",
                            body=event.note,
                        )
                    )
            case ApproversReminded():
                notices.append(
                    Notification(
                        **common,
                        kind="reminder",
                        gate=event.gate,
                        round=event.round,
                        recipient_roles=list(event.waiting_roles),
                        headline=f"Reminder {event.reminder}: {state.name} waits for your "
                        f"sign-off on the {event.gate} gate",
                    )
                )
            case ReviewEscalated():
                notices.append(
                    Notification(
                        **common,
                        kind="escalation",
                        gate=event.gate,
                        round=event.round,
                        recipient_roles=[event.to_role],
                        headline=f"Escalated: the {event.gate} gate review of {state.name} is "
                        f"overdue; still waiting for {', '.join(event.waiting_roles)}",
                    )
                )
            case ReviewTimedOut():
                notices.append(
                    Notification(
                        **common,
                        kind="review_timed_out",
                        gate=event.gate,
                        round=event.round,
                        recipient_subjects=[state.owner],
                        headline=f"The {event.gate} gate review of {state.name} passed its "
                        f"deadline: {event.outcome.replace('_', ' ')}",
                    )
                )
            case GateReviewVoided():
                notices.append(
                    Notification(
                        **common,
                        kind="review_voided",
                        gate=event.gate,
                        round=event.round,
                        recipient_roles=required,
                        recipient_subjects=[state.owner],
                        headline=f"Round {event.round} of the {event.gate} gate review of "
                        f"{state.name} was closed: {event.reason}",
                    )
                )
            case GateDecided():
                notices.append(
                    Notification(
                        **common,
                        kind="decision",
                        gate=event.gate,
                        recipient_subjects=[state.owner],
                        headline=f"{state.name}: {event.outcome.value.replace('_', ' ')} at the "
                        f"{event.gate} gate",
                        body=event.reason,
                    )
                )
            case StageEntered():
                notices.append(
                    Notification(
                        **common,
                        kind="stage_entered",
                        gate=None,
                        recipient_subjects=[state.owner],
                        headline=f"{state.name} entered {event.stage}",
                    )
                )
            case _:
                pass
        notices.extend(plan_notices(event, state))
    return notices
