"""decide(state, command, now, new_id) -> events: every business rule of the lifecycle.

Pure: the caller supplies the time and an id factory, so the workflow (deterministic ids from
`workflow.uuid4()`), unit tests and the update validators' dry runs all get the same answer.
"""

from datetime import datetime

from domain.command_context import CommandContext, NewId
from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GiveSignOff,
    RecordMetric,
    RegisterProduct,
    ReopenChecklistItem,
    RequestGateReview,
    SubmitEvidence,
)
from domain.events import Event
from domain.evolve import evolve_all
from domain.rules import decisions, gathering, registration, reviews
from domain.state import ProductState


def decide(state: ProductState, command: Command, now: datetime, new_id: NewId) -> list[Event]:
    if isinstance(command, RegisterProduct):
        events = registration.register(state, command, now, new_id)
        return events + decisions.automatic_advances(evolve_all(state, events), now, new_id)
    context = CommandContext.of(state, command.actor, now, new_id)
    match command:
        case SubmitEvidence():
            events = gathering.submit_evidence(context, command)
        case CompleteChecklistItem():
            events = gathering.complete_checklist_item(context, command)
        case ReopenChecklistItem():
            events = gathering.reopen_checklist_item(context, command)
        case RecordMetric():
            events = gathering.record_metric(context, command)
        case RequestGateReview():
            events = reviews.request_review(context, command)
        case GiveSignOff():
            events = reviews.give_sign_off(context, command)
        case DecideGate():
            events = decisions.decide_gate(context, command)
    return events + decisions.automatic_advances(evolve_all(state, events), now, new_id)
