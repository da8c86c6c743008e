"""Gathering what a gate asks for: evidence, checklist items, metric observations."""

from domain.command_context import CommandContext
from domain.commands import (
    CompleteChecklistItem,
    RecordMetric,
    ReopenChecklistItem,
    SubmitEvidence,
)
from domain.events import (
    ChecklistItemCompleted,
    ChecklistItemReopened,
    Event,
    EvidenceSubmitted,
    MetricRecorded,
)
from domain.refusals import CommandRefused, RefusalKind
from domain.rules.launch import check_gtm_item


def submit_evidence(context: CommandContext, command: SubmitEvidence) -> list[Event]:
    context.require_active("submitting evidence")
    if context.gate.evidence_requirement(command.requirement) is None:
        asked = ", ".join(r.key for r in context.gate.evidence) or "no evidence"
        raise CommandRefused(
            "evidence.unknown_requirement",
            f"gate '{context.gate_name}' has no evidence requirement '{command.requirement}'; "
            f"it asks for: {asked}",
            RefusalKind.INVALID,
        )
    return [
        *context.void_open_review(f"evidence '{command.requirement}' was added"),
        EvidenceSubmitted(
            **context.stamp(),
            gate=context.gate_name,
            requirement=command.requirement,
            evidence_id=context.new_id(),
            title=command.title,
            uri=command.uri,
            summary=command.summary,
        ),
    ]


def _checklist_owner_role(context: CommandContext, item_key: str) -> str:
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


def complete_checklist_item(context: CommandContext, command: CompleteChecklistItem) -> list[Event]:
    context.require_active("ticking checklist items")
    role = _checklist_owner_role(context, command.item)
    done = context.progress.checklist.get(command.item)
    if done is not None:
        raise CommandRefused(
            "checklist.already_done",
            f"checklist item '{command.item}' was already done by {done.done_by.display_name}",
        )
    check_gtm_item(context, command.item)
    acting_role = role if context.actor.holds(role) else None
    return [
        *context.void_open_review(f"checklist item '{command.item}' was completed"),
        ChecklistItemCompleted(
            **context.stamp(acting_role),
            gate=context.gate_name,
            item=command.item,
            note=command.note,
            uri=command.uri,
        ),
    ]


def reopen_checklist_item(context: CommandContext, command: ReopenChecklistItem) -> list[Event]:
    context.require_active("reopening checklist items")
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
        *context.void_open_review(f"checklist item '{command.item}' was reopened"),
        ChecklistItemReopened(
            **context.stamp(acting_role),
            gate=context.gate_name,
            item=command.item,
            reason=command.reason,
        ),
    ]


def record_metric(context: CommandContext, command: RecordMetric) -> list[Event]:
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
