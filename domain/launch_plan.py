"""The go-to-market checklist with real dates: the playbook's GTM template laid over a planned
launch date, and the launch goals growth is later measured against. Pure values and arithmetic;
the rules that change them live in `domain.rules.launch`."""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.identity import ActorRef
from domain.playbook import Playbook
from domain.stages import Stage
from domain.thresholds import Comparison, holds, number


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GtmItemDue(_Frozen):
    """One GTM checklist item of this launch, owned by a role and due on a date."""

    item: str
    title: str
    owner_role: str
    due_at: datetime
    needs_launch_goals: bool = False


class LaunchPlan(_Frozen):
    launch_at: datetime
    items: tuple[GtmItemDue, ...]
    reminders: dict[str, int] = {}  # overdue reminders sent per item

    def item(self, key: str) -> GtmItemDue | None:
        return next((i for i in self.items if i.item == key), None)


GoalKind = Literal["adoption", "engagement", "retention", "revenue"]


class LaunchGoal(_Frozen):
    """A target the product promises to reach by a date; it becomes the metric's KPI target."""

    metric: str
    kind: GoalKind
    comparison: Comparison
    target: float
    due_by: datetime
    set_by: ActorRef
    set_at: datetime

    def met_by(self, value: float) -> bool:
        return holds(value, self.comparison, self.target)

    def describe(self, unit: str = "") -> str:
        suffix = f" {unit}" if unit else ""
        return (
            f"{self.kind} goal {self.comparison} {number(self.target)}{suffix} "
            f"by {self.due_by.date().isoformat()}"
        )


def gtm_items(playbook: Playbook, launch_at: datetime) -> tuple[GtmItemDue, ...]:
    """The template's items, each due its offset before `launch_at`."""
    template = playbook.go_to_market
    gate = playbook.exit_gate(Stage.LAUNCH)
    if template is None or gate is None:
        return ()
    items = []
    for entry in template.schedule:
        checklist_item = gate.checklist_item(entry.item)
        assert checklist_item is not None  # the playbook validates this
        items.append(
            GtmItemDue(
                item=entry.item,
                title=checklist_item.title,
                owner_role=checklist_item.owner_role,
                due_at=launch_at - entry.due_before_launch,
                needs_launch_goals=entry.needs_launch_goals,
            )
        )
    return tuple(items)


def next_reminder_at(
    plan: LaunchPlan, item: GtmItemDue, remind_every: timedelta | None
) -> datetime | None:
    """When the item's owner is next reminded if it is still open: on the due date, then every
    `remind_every` after it (never again when the playbook sets no cadence)."""
    sent = plan.reminders.get(item.item, 0)
    if sent == 0:
        return item.due_at
    if remind_every is None:
        return None
    return item.due_at + remind_every * sent
