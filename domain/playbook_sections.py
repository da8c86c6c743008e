"""The playbook's plans for the stages after development: the go-to-market template, how growth
is measured, and how a product is sunset. Each is optional, so playbooks written before these
existed keep their meaning (and their fingerprint)."""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.identity import Key, RoleName, Title
from domain.stages import Stage
from domain.thresholds import Comparison


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _positive(name: str, value: timedelta | None) -> None:
    if value is not None and value <= timedelta(0):
        raise ValueError(f"{name} must be a positive duration")


def _not_negative(name: str, value: timedelta) -> None:
    if value < timedelta(0):
        raise ValueError(f"{name} must not be negative")


class GtmScheduleItem(_Frozen):
    """When a launch-gate checklist item is due, counted back from the planned launch date.
    Title and owner role are the checklist item's own."""

    item: Key
    due_before_launch: timedelta = timedelta(0)
    needs_launch_goals: bool = False  # the item cannot be ticked before a launch goal is set

    @model_validator(mode="after")
    def _offset_is_not_negative(self) -> "GtmScheduleItem":
        _not_negative("due_before_launch", self.due_before_launch)
        return self


class GoToMarket(_Frozen):
    """The GTM template, instantiated with real dates when a product enters launch."""

    planned_launch_after: timedelta = timedelta(days=30)  # when no launch date is planned
    remind_every: timedelta | None = None  # repeat an overdue item's reminder; None: once
    schedule: tuple[GtmScheduleItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _durations_make_sense(self) -> "GoToMarket":
        _positive("planned_launch_after", self.planned_launch_after)
        _positive("remind_every", self.remind_every)
        return self


class KpiTarget(_Frozen):
    """A KPI and the target it is held to until a launch goal for the same metric says else."""

    metric: Key
    comparison: Comparison
    target: float = Field(allow_inf_nan=False)


class GrowthPolicy(_Frozen):
    kpis: tuple[KpiTarget, ...] = Field(min_length=1)
    review_every: timedelta = timedelta(days=30)
    off_target_after: Annotated[int, Field(ge=1, le=24)] = 2  # consecutive periods
    stages: tuple[Stage, ...] = (Stage.GROWTH, Stage.MATURITY)

    @model_validator(mode="after")
    def _durations_make_sense(self) -> "GrowthPolicy":
        _positive("review_every", self.review_every)
        return self


class MetricTrend(_Frozen):
    """A gate criterion: the metric grew by less than `max_growth_percent` from each KPI review
    to the next, over the last `periods` periods ("growth has plateaued")."""

    metric: Key
    max_growth_percent: float = Field(allow_inf_nan=False)
    periods: Annotated[int, Field(ge=1, le=24)] = 3


Audience = Literal["customers", "stakeholders"]


class SunsetCommunication(_Frozen):
    key: Key
    title: Title
    audience: Audience
    recipient_roles: tuple[RoleName, ...] = ()
    before_end_of_life: timedelta

    @model_validator(mode="after")
    def _offset_is_not_negative(self) -> "SunsetCommunication":
        _not_negative("before_end_of_life", self.before_end_of_life)
        return self


class SunsetPolicy(_Frozen):
    """How far ahead an end of life must be announced, what is said when, and how often a
    retirement blocked by an unmet exit checklist is tried again."""

    min_notice: timedelta = timedelta(days=90)
    retry_every: timedelta = timedelta(days=1)
    plan_required_at_gate: bool = True  # the maturity gate needs a proposed sunset plan
    communications: tuple[SunsetCommunication, ...] = ()

    @model_validator(mode="after")
    def _durations_make_sense(self) -> "SunsetPolicy":
        _positive("min_notice", self.min_notice)
        _positive("retry_every", self.retry_every)
        keys = [c.key for c in self.communications]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise ValueError(f"communication '{key}' is listed more than once")
        late = [c.key for c in self.communications if c.before_end_of_life > self.min_notice]
        if late:
            raise ValueError(
                f"communications {', '.join(late)} are due earlier than the minimum notice "
                "allows; raise min_notice or move them closer to the end of life"
            )
        return self


def section_problems(
    go_to_market: GoToMarket | None,
    growth: GrowthPolicy | None,
    sunset: SunsetPolicy | None,
    *,
    launch_checklist: set[str],
    roles: set[str],
    metrics: set[str],
) -> list[tuple[tuple[int | str, ...], str]]:
    """What the sections name that the rest of the playbook does not declare."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    if go_to_market is not None:
        listed = ", ".join(sorted(launch_checklist)) or "none"
        seen: list[str] = []
        for n, entry in enumerate(go_to_market.schedule):
            where: tuple[int | str, ...] = ("go_to_market", "schedule", n, "item")
            if entry.item not in launch_checklist:
                problems.append(
                    (where, f"'{entry.item}' is not a checklist item of the launch gate ({listed})")
                )
            if entry.item in seen:
                problems.append((where, f"'{entry.item}' is scheduled more than once"))
            if entry.due_before_launch > go_to_market.planned_launch_after:
                problems.append(
                    (
                        ("go_to_market", "schedule", n, "due_before_launch"),
                        f"'{entry.item}' would be overdue on entering launch: due "
                        f"{entry.due_before_launch.days} days before a launch planned "
                        f"{go_to_market.planned_launch_after.days} days after entering it",
                    )
                )
            seen.append(entry.item)
    if growth is not None:
        for n, kpi in enumerate(growth.kpis):
            if kpi.metric not in metrics:
                problems.append(
                    (
                        ("growth", "kpis", n, "metric"),
                        f"metric '{kpi.metric}' is not declared under metrics",
                    )
                )
    if sunset is not None:
        for n, message in enumerate(sunset.communications):
            for m, role in enumerate(message.recipient_roles):
                if role not in roles:
                    problems.append(
                        (
                            ("sunset", "communications", n, "recipient_roles", m),
                            f"role '{role}' is not declared under roles",
                        )
                    )
    return problems
