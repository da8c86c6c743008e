"""The product page's launch, growth and sunset panel: what `GET /products/{id}/plans` answers,
laid out for people. Built from the folded state and an instant (now, or the `as_of` of a look
at the past), so the page and the API read the same fields the same way."""

from dataclasses import dataclass
from datetime import datetime

from domain.kpis import Experiment, KpiResult
from domain.launch_plan import LaunchGoal
from domain.rules.growth import next_review_at
from domain.state import ProductState
from domain.sunset import ScheduledCommunication
from domain.thresholds import number

KPI_STATUS_LABELS = {
    "on_target": "on target",
    "off_target": "off target",
    "no_data": "no data",
    "not_due": "not due yet",
}


@dataclass(frozen=True)
class GtmRow:
    title: str
    owner_role: str
    due_at: datetime
    done_by: str | None  # printed name of who ticked it; None while open
    overdue: bool
    reminders: int


@dataclass(frozen=True)
class GoalRow:
    metric: str
    kind: str
    target: str  # "≥ 40"
    due_by: datetime
    set_by: str


@dataclass(frozen=True)
class KpiRow:
    metric: str
    value: str  # "" when the period had no reading
    target: str
    status: str  # a key of KPI_STATUS_LABELS
    label: str
    periods_off_target: int
    reason: str


@dataclass(frozen=True)
class ExperimentRow:
    hypothesis: str
    variants: str
    result: str
    decision: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class CommunicationRow:
    title: str
    audience: str
    send_at: datetime
    sent_at: datetime | None
    late: bool  # its date has passed and it has not gone out


@dataclass(frozen=True)
class SunsetView:
    reason: str
    end_of_life: datetime
    retire_at: datetime  # later than the end of life when the exit checklist deferred it
    communication_plan: str
    transition_plan: str
    proposed_by: str
    proposed_at: datetime
    communications: list[CommunicationRow]


@dataclass(frozen=True)
class PlansView:
    launch_at: datetime | None
    checklist: list[GtmRow]
    goals: list[GoalRow]
    reviews: int  # KPI reviews held so far
    next_review_at: datetime | None
    kpis: list[KpiRow]
    experiments: list[ExperimentRow]
    sunset: SunsetView | None

    @property
    def anything(self) -> bool:
        return bool(self.launch_at or self.goals or self.kpis or self.sunset or self.next_review_at)


def plans_of(state: ProductState, now: datetime) -> PlansView:
    """Where the product's launch, growth and sunset stand at `now`."""
    plan = state.launch_plan
    ticks = state.progress.checklist if state.progress else {}
    checklist = []
    if plan is not None:
        for item in plan.items:
            tick = ticks.get(item.item)
            checklist.append(
                GtmRow(
                    title=item.title,
                    owner_role=item.owner_role,
                    due_at=item.due_at,
                    done_by=tick.done_by.display_name if tick else None,
                    overdue=tick is None and item.due_at <= now,
                    reminders=plan.reminders.get(item.item, 0),
                )
            )
    return PlansView(
        launch_at=plan.launch_at if plan else None,
        checklist=checklist,
        goals=[_goal(g) for g in state.launch_goals],
        reviews=state.kpis.reviews,
        next_review_at=next_review_at(state),
        kpis=[_kpi(r) for r in state.kpis.last_results],
        experiments=[_experiment(e) for e in state.experiments],
        sunset=_sunset(state, now),
    )


def _goal(goal: LaunchGoal) -> GoalRow:
    return GoalRow(
        metric=goal.metric,
        kind=goal.kind,
        target=f"{goal.comparison} {number(goal.target)}",
        due_by=goal.due_by,
        set_by=goal.set_by.display_name,
    )


def _kpi(result: KpiResult) -> KpiRow:
    return KpiRow(
        metric=result.metric,
        value="" if result.value is None else number(result.value),
        target=f"{result.comparison} {number(result.target)}",
        status=result.status,
        label=KPI_STATUS_LABELS.get(result.status, result.status),
        periods_off_target=result.periods_off_target,
        reason=result.reason,
    )


def _experiment(done: Experiment) -> ExperimentRow:
    return ExperimentRow(
        hypothesis=done.hypothesis,
        variants=", ".join(done.variants),
        result=done.result,
        decision=done.decision or "",
        recorded_by=done.recorded_by.display_name,
        recorded_at=done.recorded_at,
    )


def _communication(sent: ScheduledCommunication, now: datetime) -> CommunicationRow:
    return CommunicationRow(
        title=sent.title,
        audience=sent.audience,
        send_at=sent.send_at,
        sent_at=sent.sent_at,
        late=sent.sent_at is None and sent.send_at <= now,
    )


def _sunset(state: ProductState, now: datetime) -> SunsetView | None:
    plan = state.sunset_plan
    if plan is None:
        return None
    return SunsetView(
        reason=plan.reason,
        end_of_life=plan.end_of_life,
        retire_at=plan.retire_at,
        communication_plan=plan.communication_plan,
        transition_plan=plan.transition_plan,
        proposed_by=plan.proposed_by.display_name,
        proposed_at=plan.proposed_at,
        communications=[_communication(c, now) for c in plan.communications],
    )
