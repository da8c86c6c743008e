"""decide(state, command, now, new_id) -> events: every business rule of the lifecycle.

Pure: the caller supplies the time and an id factory, so the workflow (deterministic ids from
`workflow.uuid4()`), unit tests and the update validators' dry runs all get the same answer.
"""

from datetime import datetime

from domain.command_context import CommandContext, NewId
from domain.commands import (
    AdoptPlaybook,
    Command,
    CompleteChecklistItem,
    DecideGate,
    EnforceReviewDeadline,
    GateOutcome,
    GiveSignOff,
    MeetCondition,
    PlanLaunch,
    ProposeSunset,
    RecordExperiment,
    RecordMetric,
    RegisterProduct,
    RemindApprovers,
    RemindOverdueGtmItems,
    ReopenChecklistItem,
    RequestGateReview,
    ReviewKpis,
    RevokeSignOff,
    RunSunsetSchedule,
    SetLaunchGoal,
    SubmitEvidence,
)
from domain.events import Event
from domain.evolve import evolve_all
from domain.identity import SYSTEM_ACTOR, attribution
from domain.rules import (
    decisions,
    gathering,
    growth,
    launch,
    playbooks,
    registration,
    reviews,
    sunset,
)
from domain.state import ProductState


def decide(state: ProductState, command: Command, now: datetime, new_id: NewId) -> list[Event]:
    events = _decide_command(state, command, now, new_id)
    # A person's Recycle is never overridden by an automatic pass of the same gate.
    recycled = isinstance(command, DecideGate) and command.outcome is GateOutcome.RECYCLE
    after = evolve_all(state, events)
    events = events + decisions.automatic_advances(after, now, new_id, after_manual=recycled)
    events = events + _scheduled_playbook(state, evolve_all(state, events), now, new_id)
    # Whatever stage the product now stands in sets up its own plan (entering launch lays the
    # GTM template over the default launch date).
    return events + launch.plan_on_entry(evolve_all(state, events), now, new_id)


def _scheduled_playbook(
    before: ProductState, after: ProductState, now: datetime, new_id: NewId
) -> list[Event]:
    if after.pending_playbook is None or after.product_id is None:
        return []
    stamp: dict[str, object] = {
        "event_id": new_id(),
        "product_id": after.product_id,
        "occurred_at": now,
        "actor": attribution(SYSTEM_ACTOR),
    }
    return playbooks.adopt_on_stage_entry(before, after, stamp)


def _decide_command(
    state: ProductState, command: Command, now: datetime, new_id: NewId
) -> list[Event]:
    if isinstance(command, RegisterProduct):
        return registration.register(state, command, now, new_id)
    context = CommandContext.of(state, command.actor, now, new_id)
    match command:
        case SubmitEvidence():
            return gathering.submit_evidence(context, command)
        case CompleteChecklistItem():
            return gathering.complete_checklist_item(context, command)
        case ReopenChecklistItem():
            return gathering.reopen_checklist_item(context, command)
        case RecordMetric():
            return gathering.record_metric(context, command)
        case RequestGateReview():
            return reviews.request_review(context, command)
        case GiveSignOff():
            return reviews.give_sign_off(context, command)
        case RevokeSignOff():
            return reviews.revoke_sign_off(context, command)
        case RemindApprovers():
            return reviews.remind_approvers(context, command)
        case EnforceReviewDeadline():
            return reviews.enforce_deadline(context, command)
        case DecideGate():
            return decisions.decide_gate(context, command)
        case MeetCondition():
            return decisions.meet_condition(context, command)
        case PlanLaunch():
            return launch.plan_launch(context, command)
        case SetLaunchGoal():
            return launch.set_launch_goal(context, command)
        case RemindOverdueGtmItems():
            return launch.remind_overdue_items(context, command)
        case ReviewKpis():
            return growth.review_kpis(context, command)
        case RecordExperiment():
            return growth.record_experiment(context, command)
        case ProposeSunset():
            return sunset.propose_sunset(context, command)
        case RunSunsetSchedule():
            return sunset.run_schedule(context, command)
        case AdoptPlaybook():
            return playbooks.adopt_playbook(context, command)
