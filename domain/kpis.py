"""Growth measured against targets: KPI reviews period by period, their streaks off target,
metric trends for gate criteria, and experiments kept as growth evidence. Pure values and
arithmetic; the rules live in `domain.rules.growth`."""

from datetime import datetime
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.identity import ActorRef
from domain.playbook_sections import MetricTrend
from domain.thresholds import Comparison, number

# Values kept per metric for trends: enough for two years of monthly reviews.
HISTORY_KEPT = 24

KpiStatus = Literal["on_target", "off_target", "no_data", "not_due"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KpiResult(_Frozen):
    metric: str
    value: float | None
    comparison: Comparison
    target: float
    status: KpiStatus
    periods_off_target: int  # consecutive, this review included
    reason: str


class KpiTrack(_Frozen):
    """Where the periodic KPI review stands: started when the product entered a measured stage."""

    started_at: datetime | None = None
    reviews: int = 0
    last_results: tuple[KpiResult, ...] = ()
    history: dict[str, tuple[float | None, ...]] = {}
    proposed_gates: tuple[str, ...] = ()  # gates already proposed for decision by a trend

    def streak(self, metric: str) -> int:
        result = next((r for r in self.last_results if r.metric == metric), None)
        return result.periods_off_target if result else 0


class Experiment(_Frozen):
    experiment_id: str
    hypothesis: str
    variants: tuple[str, ...]
    result: str
    decision: str | None
    recorded_by: ActorRef
    recorded_at: datetime


def growth_rates(values: tuple[float | None, ...]) -> list[float | None]:
    """Period-over-period growth in percent; None where either side is missing or zero."""
    rates: list[float | None] = []
    for before, after in pairwise(values):
        if before is None or after is None or before == 0:
            rates.append(None)
        else:
            rates.append((after - before) / abs(before) * 100)
    return rates


def trend_holds(trend: MetricTrend, values: tuple[float | None, ...]) -> tuple[bool, str]:
    """Whether the last `periods` growth rates all stayed under the limit, and why."""
    limit = f"needs growth under {number(trend.max_growth_percent)}% for {trend.periods} periods"
    rates = growth_rates(values)[-trend.periods :]
    if len(rates) < trend.periods:
        return False, f"{len(values)} KPI review(s) recorded so far; {limit}"
    if any(rate is None for rate in rates):
        return False, f"a KPI review in the last {trend.periods} periods had no value; {limit}"
    shown = ", ".join(f"{rate:.1f}%" for rate in rates if rate is not None)
    passed = all(rate is not None and rate < trend.max_growth_percent for rate in rates)
    return passed, f"grew {shown} over the last {trend.periods} periods; {limit}"
