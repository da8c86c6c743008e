"""The Portfolio section's figures from product states alone: pure functions, no page."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from api.web.portfolio import (
    bar_chart,
    duration_label,
    finished_stays,
    gate_rates,
    killed_per_stage,
    portfolio,
    time_in_stage,
)
from domain.stages import Stage
from domain.state import ProductState, StageVisit
from store.trail_analytics import GatePassRate, PortfolioAnalytics, RoleLatency, analyse, spread

T0 = datetime(2026, 2, 2, tzinfo=UTC)
DAY = 86_400.0


def product(product_id: str, *visits: tuple[Stage, float]) -> ProductState:
    """A state that walked `visits` (stage, day entered): all the figures read."""
    history = tuple(StageVisit(stage=s, entered_at=T0 + timedelta(days=d)) for s, d in visits)
    return ProductState(product_id=product_id, stage=history[-1].stage, history=history)


def states() -> list[ProductState]:
    return [
        product("a", (Stage.DISCOVERY, 0), (Stage.PLANNING, 2), (Stage.DEVELOPMENT, 8)),
        product("b", (Stage.DISCOVERY, 0), (Stage.DISCOVERY, 1), (Stage.PLANNING, 4)),
        product("c", (Stage.DISCOVERY, 1), (Stage.KILLED, 1.5)),
        product("d", (Stage.DISCOVERY, 0), (Stage.PLANNING, 10), (Stage.KILLED, 11)),
        product("e", (Stage.DISCOVERY, 3)),
        product("f", (Stage.SUNSET, 0), (Stage.RETIRED, 30)),
    ]


def test_only_finished_stays_count_and_terminal_stages_have_no_duration() -> None:
    stays = finished_stays(states())

    assert sorted(stays[Stage.DISCOVERY]) == [d * DAY for d in (0.5, 1, 2, 3, 10)]
    assert sorted(stays[Stage.PLANNING]) == [DAY, 6 * DAY]  # a's 6 days, d's 1; b's still runs
    assert stays[Stage.SUNSET] == [30 * DAY]
    assert Stage.DEVELOPMENT not in stays  # a is still there
    assert Stage.KILLED not in stays
    assert Stage.RETIRED not in stays


def test_time_in_stage_is_the_nearest_rank_median_and_p90_in_lifecycle_order() -> None:
    figures = time_in_stage(states())

    assert [(t.name, t.count, t.median_days, t.p90_days) for t in figures] == [
        ("discovery", 5, 2.0, 10.0),
        ("planning", 2, 1.0, 6.0),
        ("sunset", 1, 30.0, 30.0),
    ]
    assert (figures[0].median, figures[0].p90) == ("2.0 d", "10.0 d")


def test_time_in_stage_from_states_equals_the_trails_for_the_same_stays() -> None:
    events: list[tuple[str, str, dict[str, Any]]] = []
    for state in states():
        assert state.product_id is not None
        for index, visit in enumerate(state.history):
            at = visit.entered_at.isoformat()
            if visit.stage is Stage.KILLED:
                stage = state.history[index - 1].stage.value
                events.append(
                    (state.product_id, "ProductKilled", {"stage": stage, "occurred_at": at})
                )
            else:
                kind = "ProductRegistered" if index == 0 else "StageEntered"
                events.append(
                    (state.product_id, kind, {"stage": visit.stage.value, "occurred_at": at})
                )
    trail = analyse(events, T0 + timedelta(days=60))

    from_states = {
        t.name: (t.count, t.median_days * DAY, t.p90_days * DAY) for t in time_in_stage(states())
    }

    assert from_states == {
        stage: (s.count, s.median_seconds, s.p90_seconds)
        for stage, s in trail.time_in_stage.items()
    }
    assert {k.stage: k.products for k in killed_per_stage(states())} == trail.killed_per_stage


def test_a_killed_product_counts_in_the_stage_it_was_killed_in() -> None:
    assert [(k.stage, k.products) for k in killed_per_stage(states())] == [
        ("discovery", 1),
        ("planning", 1),
    ]
    assert killed_per_stage([product("x", (Stage.DISCOVERY, 0))]) == []


def test_gate_rates_follow_the_lifecycle_and_round_to_whole_percent() -> None:
    figures = [
        GatePassRate(gate="planning", decided=3, first_pass=2, rate=2 / 3),
        GatePassRate(gate="discovery", decided=4, first_pass=1, rate=0.25),
        GatePassRate(gate="launch", decided=0, first_pass=0, rate=None),
    ]

    rates = gate_rates(figures)

    assert [(g.gate, g.first_pass, g.decided, g.percent) for g in rates] == [
        ("discovery", 1, 4, 25),
        ("planning", 2, 3, 67),
    ]


def test_bars_are_scaled_to_the_plot_and_clamped_to_it() -> None:
    chart = bar_chart(
        [("one", [(0.5, "median", "half"), (1.0, "p90", "all")]), ("two", [(1.5, "rate", "over")])]
    )

    widths = [bar.width for row in chart.rows for bar in row.bars]
    assert widths == [100.0, 200.0, 200.0]
    assert chart.width == 320
    tops = [bar.y for row in chart.rows for bar in row.bars]
    assert all(b >= a + chart.bar_height for a, b in pairwise(tops))
    assert chart.height > tops[-1] + chart.bar_height
    assert all(bar.text_x == bar.width + 6 for row in chart.rows for bar in row.bars)


def trail(*latencies: tuple[str, list[float]]) -> PortfolioAnalytics:
    """The trail's figures with one gate decided twice, passed once, and `latencies` in days."""
    return PortfolioAnalytics(
        as_of=T0,
        products=[],
        time_in_stage={},
        gate_first_pass=[GatePassRate(gate="discovery", decided=2, first_pass=1, rate=0.5)],
        approval_latency_by_approver=[],
        approval_latency_by_role=[
            RoleLatency(role=role, latency=spread([d * DAY for d in days]))
            for role, days in latencies
        ],
        killed_per_stage={},
    )


def test_the_portfolio_scales_time_bars_to_the_longest_p90_and_summarises_each_chart() -> None:
    section = portfolio(states(), trail(("finance", [0.5, 4]), ("legal", [1])))

    sunset = section.time_chart.rows[-1]
    assert sunset.label == "sunset (1)"
    assert [b.width for b in sunset.bars] == [200.0, 200.0]  # 30 days is the longest p90
    assert section.first_pass_summary == "discovery: 50% (1 of 2)"
    assert section.kills_summary == "discovery: 1 product; planning: 1 product"
    assert section.time_summary.startswith("discovery: median 2.0 d, p90 10.0 d over 5 finished")
    assert section.latency_summary == (
        "finance: median 12.0 h, p90 4.0 d over 2 sign-offs; "
        "legal: median 1.0 d, p90 1.0 d over 1 sign-off"
    )
    assert [[b.width for b in row.bars] for row in section.latency_chart.rows] == [
        [25.0, 200.0],
        [50.0, 50.0],
    ]


def test_without_the_trail_its_figures_are_unknown_not_zero() -> None:
    section = portfolio(states(), None, "reading the event log is not configured")

    assert section.first_pass is None
    assert section.latency is None
    assert section.trail_problem == "reading the event log is not configured"
    assert section.first_pass_chart.rows == ()
    assert section.latency_chart.rows == ()
    assert len(section.time_in_stage) == 3  # the read model's figures still show


def test_a_role_nobody_signed_in_has_no_latency_row() -> None:
    section = portfolio(states(), trail(("finance", [])))

    assert section.latency == ()


def test_durations_under_a_day_read_in_hours() -> None:
    assert duration_label(0.25) == "6.0 h"
    assert duration_label(1) == "1.0 d"
    assert duration_label(12.34) == "12.3 d"
