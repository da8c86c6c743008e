"""The board's Portfolio section: time in stage, gate first-pass rate, approval latency per role
and products killed per stage, as figures and as bar geometry for server-drawn SVG charts.

Where each figure comes from, and why there:

* Time in stage is read off the product read model's states: each keeps ``history``, the stages
  entered and when. That read model follows the global log from a checkpoint committed in the
  same transaction as its rows (``store/projections.py``), and the board loads every state in
  one query anyway, so this figure costs no extra read however long the log grows.
* Kills per stage too: a killed product's history ends with ``killed`` right after the stage
  it was killed in.
* First-pass rate needs each gate's *first* decision, which a state does not keep (a Hold, a
  Recycle or a rejected round leaves no trace once the product moves on). It comes from the
  trail's figures through ``AnalyticsCache``: one index lookup per page load tells whether the
  log's head position moved, and if it did, only the events after the last one folded are
  read. Approval latency per role comes the same way: a state forgets a round's timings once
  its gate is passed.

The definitions are the trail's (``store/trail_analytics.py``: finished stays only, terminal
stages have no duration, nearest-rank percentiles), so the page agrees with ``GET /analytics``.
Everything here is pure: states and figures in, plain data for the template out.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from domain.stages import LIFECYCLE_PATH, TERMINAL_STAGES, Stage
from domain.state import ProductState
from store.trail_analytics import GatePassRate, PortfolioAnalytics, RoleLatency, percentile

DAY = 86_400.0
_WIDTH, _PLOT, _BAR, _GAP, _LABEL = 320, 200, 14, 4, 16


def duration_label(days: float) -> str:
    """Days with one decimal; hours under a day, where "0.2 d" would say little."""
    return f"{days:.1f} d" if days >= 1 else f"{days * 24:.1f} h"


@dataclass(frozen=True)
class Durations:
    """Median and p90 of some durations: a stage's finished stays, or a role's sign-offs."""

    name: str
    count: int
    median_days: float
    p90_days: float

    @property
    def median(self) -> str:
        return duration_label(self.median_days)

    @property
    def p90(self) -> str:
        return duration_label(self.p90_days)


@dataclass(frozen=True)
class GateRate:
    gate: str
    decided: int  # products with a decision at this gate
    first_pass: int  # of those, the ones whose first decision was Go or Conditional Go

    @property
    def percent(self) -> int:
        return round(100 * self.first_pass / self.decided)


@dataclass(frozen=True)
class StageKills:
    stage: str
    products: int


def _products(count: int) -> str:
    return f"{count} product{'' if count == 1 else 's'}"


def finished_stays(states: Iterable[ProductState]) -> dict[Stage, list[float]]:
    """Seconds of every stay that has ended (the product entered another stage since), per
    working stage. A stay still running is not a duration yet, so it is left out."""
    stays: dict[Stage, list[float]] = defaultdict(list)
    for state in states:
        for visit, following in pairwise(state.history):
            if visit.stage not in TERMINAL_STAGES:
                seconds = (following.entered_at - visit.entered_at).total_seconds()
                stays[visit.stage].append(max(0.0, seconds))
    return stays


def time_in_stage(states: Iterable[ProductState]) -> list[Durations]:
    """Median and p90 of finished stays, for each stage that has any, in lifecycle order."""
    stays = finished_stays(states)
    result = []
    for stage in LIFECYCLE_PATH:
        seconds = stays.get(stage, [])
        median, p90 = percentile(seconds, 50), percentile(seconds, 90)
        if median is not None and p90 is not None:
            result.append(Durations(stage.value, len(seconds), median / DAY, p90 / DAY))
    return result


def killed_per_stage(states: Iterable[ProductState]) -> list[StageKills]:
    """How many products were killed in each stage, for each stage that lost any."""
    killed: Counter[Stage] = Counter()
    for state in states:
        if len(state.history) >= 2 and state.history[-1].stage is Stage.KILLED:
            killed[state.history[-2].stage] += 1
    return [StageKills(stage.value, killed[stage]) for stage in LIFECYCLE_PATH if killed[stage]]


def gate_rates(figures: Sequence[GatePassRate]) -> list[GateRate]:
    """The trail's first-pass figures, gates in lifecycle order."""
    order = {stage.value: index for index, stage in enumerate(LIFECYCLE_PATH)}
    decided = [f for f in figures if f.decided]
    decided.sort(key=lambda f: (order.get(f.gate, len(order)), f.gate))
    return [GateRate(f.gate, f.decided, f.first_pass) for f in decided]


def role_latencies(figures: Sequence[RoleLatency]) -> list[Durations]:
    """The trail's approval latency per role (request to sign-off in that round)."""
    return [
        Durations(
            f.role, f.latency.count, f.latency.median_seconds / DAY, f.latency.p90_seconds / DAY
        )
        for f in figures
        if f.latency.median_seconds is not None and f.latency.p90_seconds is not None
    ]


# -- chart geometry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    kind: str  # the CSS class suffix: what the bar measures
    y: int
    width: float
    text: str
    text_x: float
    text_y: int


@dataclass(frozen=True)
class Row:
    label: str
    label_y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars under each row's label: narrow enough (320 units) to stay legible when
    a phone shrinks it to its width, since the label sits above the bars, not beside them."""

    rows: tuple[Row, ...]
    width: int
    height: int
    bar_height: int


# One bar as the chart builder takes it: (fraction of the plot width, kind, text beside it).
BarSpec = tuple[float, str, str]


def bar_chart(rows: Sequence[tuple[str, Sequence[BarSpec]]]) -> BarChart:
    laid: list[Row] = []
    y = 0
    for label, specs in rows:
        label_y = y + _LABEL - 4
        y += _LABEL
        bars = []
        for fraction, kind, text in specs:
            width = round(_PLOT * min(max(fraction, 0.0), 1.0), 1)
            bars.append(Bar(kind, y, width, text, width + 6, y + _BAR - 3))
            y += _BAR + _GAP
        laid.append(Row(label, label_y, tuple(bars)))
        y += _GAP * 2
    return BarChart(tuple(laid), _WIDTH, max(y, 1), _BAR)


@dataclass(frozen=True)
class Portfolio:
    """Everything the Portfolio section draws. ``first_pass`` and ``latency`` come from the
    trail: None when it could not be read, and ``trail_problem`` then says why."""

    products: int
    time_in_stage: tuple[Durations, ...]
    time_chart: BarChart
    first_pass: tuple[GateRate, ...] | None
    first_pass_chart: BarChart
    latency: tuple[Durations, ...] | None
    latency_chart: BarChart
    kills: tuple[StageKills, ...]
    kills_chart: BarChart
    trail_problem: str

    @property
    def time_summary(self) -> str:
        return _spread_summary(self.time_in_stage, "finished stay")

    @property
    def latency_summary(self) -> str:
        return _spread_summary(self.latency or (), "sign-off")

    @property
    def first_pass_summary(self) -> str:
        return "; ".join(
            f"{g.gate}: {g.percent}% ({g.first_pass} of {g.decided})" for g in self.first_pass or ()
        )

    @property
    def kills_summary(self) -> str:
        return "; ".join(f"{k.stage}: {_products(k.products)}" for k in self.kills)


def _spread_summary(spreads: Iterable[Durations], unit: str) -> str:
    return "; ".join(
        f"{d.name}: median {d.median}, p90 {d.p90} over {d.count} {unit}"
        + ("" if d.count == 1 else "s")
        for d in spreads
    )


def _spread_chart(spreads: Sequence[Durations]) -> BarChart:
    """Median and p90 bars per row, all scaled to the longest p90."""
    longest = max((d.p90_days for d in spreads), default=0.0) or 1.0
    return bar_chart(
        [
            (
                f"{d.name} ({d.count})",
                [
                    (d.median_days / longest, "median", f"median {d.median}"),
                    (d.p90_days / longest, "p90", f"p90 {d.p90}"),
                ],
            )
            for d in spreads
        ]
    )


def portfolio(
    states: Sequence[ProductState], trail: PortfolioAnalytics | None, trail_problem: str = ""
) -> Portfolio:
    times = time_in_stage(states)
    rates = gate_rates(trail.gate_first_pass) if trail is not None else None
    latency = role_latencies(trail.approval_latency_by_role) if trail is not None else None
    kills = killed_per_stage(states)
    most = max((k.products for k in kills), default=0) or 1
    return Portfolio(
        products=len(states),
        time_in_stage=tuple(times),
        time_chart=_spread_chart(times),
        first_pass=tuple(rates) if rates is not None else None,
        first_pass_chart=bar_chart(
            [
                (
                    g.gate,
                    [
                        (
                            g.first_pass / g.decided,
                            "rate",
                            f"{g.percent}% ({g.first_pass} of {g.decided})",
                        )
                    ],
                )
                for g in rates or ()
            ]
        ),
        latency=tuple(latency) if latency is not None else None,
        latency_chart=_spread_chart(latency or []),
        kills=tuple(kills),
        kills_chart=bar_chart(
            [(k.stage, [(k.products / most, "kills", _products(k.products))]) for k in kills]
        ),
        trail_problem=trail_problem,
    )
