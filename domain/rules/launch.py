"""Launch and go-to-market: the GTM checklist laid over the planned launch date, reminders to
the owners of overdue items, and the launch goals growth will be measured against."""

from datetime import datetime

from domain.command_context import CommandContext, NewId
from domain.commands import PlanLaunch, RemindOverdueGtmItems, SetLaunchGoal
from domain.events import Event, GtmItemOverdue, LaunchGoalSet, LaunchPlanned
from domain.identity import SYSTEM_ACTOR, attribution
from domain.launch_plan import gtm_items, next_reminder_at
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import Stage
from domain.state import ProductState

GOAL_STAGES = (Stage.LAUNCH, Stage.GROWTH)


def plan_on_entry(state: ProductState, now: datetime, new_id: NewId) -> list[Event]:
    """Entering launch instantiates the playbook's GTM template, due dates counted back from
    the default launch date; the product owner may move that date later."""
    playbook = state.playbook
    if (
        state.stage is not Stage.LAUNCH
        or playbook is None
        or playbook.go_to_market is None
        or state.launch_plan is not None
        or state.product_id is None
    ):
        return []
    entered = state.stage_entered_at or now
    launch_at = entered + playbook.go_to_market.planned_launch_after
    return [
        LaunchPlanned(
            event_id=new_id(),
            product_id=state.product_id,
            occurred_at=now,
            actor=attribution(SYSTEM_ACTOR),
            launch_at=launch_at,
            items=gtm_items(playbook, launch_at),
        )
    ]


def plan_launch(context: CommandContext, command: PlanLaunch) -> list[Event]:
    context.require_active("planning the launch")
    if context.gate_name is not Stage.LAUNCH:
        raise CommandRefused(
            "launch.not_in_launch",
            f"the launch date is planned during launch; product '{context.product_id}' is in "
            f"{context.gate_name}",
        )
    if context.playbook.go_to_market is None:
        raise CommandRefused(
            "launch.no_gtm_template",
            f"playbook '{context.playbook.name}' has no go-to-market template to date",
            RefusalKind.INVALID,
        )
    context.require_owner_or_decider("plan the launch date", "launch.not_permitted")
    if command.launch_at <= context.now:
        raise CommandRefused(
            "launch.date_in_past",
            f"launch date {command.launch_at.isoformat()} is not in the future",
            RefusalKind.INVALID,
        )
    previous = context.state.launch_plan
    return [
        LaunchPlanned(
            **context.stamp(),
            launch_at=command.launch_at,
            items=gtm_items(context.playbook, command.launch_at),
            replanned_from=previous.launch_at if previous else None,
        )
    ]


def remind_overdue_items(context: CommandContext, command: RemindOverdueGtmItems) -> list[Event]:
    """Each open GTM item past its due date reminds its owner role, then again every
    `remind_every`; done items, a product on hold or outside launch are left alone."""
    plan = context.state.launch_plan
    template = context.playbook.go_to_market
    if context.state.on_hold or plan is None or template is None:
        return []
    events: list[Event] = []
    for item in plan.items:
        if item.item in context.progress.checklist:
            continue
        at = next_reminder_at(plan, item, template.remind_every)
        if at is None or at > context.now:
            continue
        events.append(
            GtmItemOverdue(
                **context.stamp(),
                item=item.item,
                title=item.title,
                owner_role=item.owner_role,
                due_at=item.due_at,
                reminder=plan.reminders.get(item.item, 0) + 1,
            )
        )
    return events


def check_gtm_item(context: CommandContext, item_key: str) -> None:
    """An item the template ties to launch goals cannot be ticked before a goal is set."""
    plan = context.state.launch_plan
    due = plan.item(item_key) if plan else None
    if due is not None and due.needs_launch_goals and not context.state.launch_goals:
        raise CommandRefused(
            "gtm.launch_goals_missing",
            f"GTM item '{item_key}' needs at least one launch goal (adoption, engagement, "
            "retention or revenue target with a date) set first",
        )


def set_launch_goal(context: CommandContext, command: SetLaunchGoal) -> list[Event]:
    context.require_active("setting launch goals")
    if context.gate_name not in GOAL_STAGES:
        raise CommandRefused(
            "launch_goal.wrong_stage",
            f"launch goals are set during launch or growth; product '{context.product_id}' is "
            f"in {context.gate_name}",
        )
    definition = context.playbook.metric(command.metric)
    if definition is None:
        known = ", ".join(m.key for m in context.playbook.metrics) or "none"
        raise CommandRefused(
            "metric.unknown",
            f"playbook '{context.playbook.name}' defines no metric '{command.metric}'; "
            f"known metrics: {known}",
            RefusalKind.INVALID,
        )
    if not context.is_owner():
        raise CommandRefused(
            "launch_goal.not_product_owner",
            f"only the product owner ({context.state.owner_name}) sets launch goals",
            RefusalKind.FORBIDDEN,
        )
    if command.due_by <= context.now:
        raise CommandRefused(
            "launch_goal.due_in_past",
            f"launch goal for '{command.metric}' is due {command.due_by.isoformat()}, which is "
            "not in the future",
            RefusalKind.INVALID,
        )
    return [
        LaunchGoalSet(
            **context.stamp(),
            metric=command.metric,
            kind=command.kind,
            comparison=command.comparison,
            target=command.target,
            unit=definition.unit,
            due_by=command.due_by,
        )
    ]
