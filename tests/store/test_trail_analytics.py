"""Portfolio analytics from the trail: figures an auditor can trace back to events."""

from datetime import UTC, datetime, timedelta
from typing import Any

from store.trail_analytics import analyse, percentile

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def person(subject: str, role: str) -> dict[str, Any]:
    return {"subject": subject, "display_name": subject.title(), "role": role}


def journey() -> list[tuple[str, str, dict[str, Any]]]:
    """Atlas passes discovery first time after 10 days; Beacon is recycled once, then passes;
    Comet is killed in planning."""
    lead, cfo = person("grace", "product-lead"), person("omar", "finance")
    return [
        ("atlas", "ProductRegistered", {"stage": "discovery", "occurred_at": at(0)}),
        ("beacon", "ProductRegistered", {"stage": "discovery", "occurred_at": at(0)}),
        ("comet", "ProductRegistered", {"stage": "discovery", "occurred_at": at(1)}),
        ("atlas", "GateReviewRequested", {"gate": "discovery", "round": 1, "occurred_at": at(8)}),
        (
            "atlas",
            "SignOffGiven",
            {"gate": "discovery", "round": 1, "actor": lead, "occurred_at": at(9)},
        ),
        (
            "atlas",
            "SignOffGiven",
            {"gate": "discovery", "round": 1, "actor": cfo, "occurred_at": at(10)},
        ),
        ("atlas", "GateDecided", {"gate": "discovery", "outcome": "go", "occurred_at": at(10)}),
        ("atlas", "StageEntered", {"stage": "planning", "occurred_at": at(10)}),
        ("beacon", "GateReviewRequested", {"gate": "discovery", "round": 1, "occurred_at": at(2)}),
        (
            "beacon",
            "SignOffGiven",
            {"gate": "discovery", "round": 1, "actor": lead, "occurred_at": at(5)},
        ),
        (
            "beacon",
            "GateDecided",
            {"gate": "discovery", "outcome": "recycle", "occurred_at": at(6)},
        ),
        ("beacon", "GateDecided", {"gate": "discovery", "outcome": "go", "occurred_at": at(20)}),
        ("beacon", "StageEntered", {"stage": "planning", "occurred_at": at(20)}),
        ("comet", "StageEntered", {"stage": "planning", "occurred_at": at(3)}),
        ("comet", "ProductKilled", {"stage": "planning", "occurred_at": at(7)}),
    ]


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 11)], 90) == 9.0


def test_time_in_stage_first_pass_latency_and_kills_are_read_off_the_trail() -> None:
    figures = analyse(journey(), T0 + timedelta(days=30))

    day = 86_400.0
    discovery = figures.time_in_stage["discovery"]
    assert (discovery.count, discovery.median_seconds, discovery.p90_seconds) == (
        3,
        10 * day,
        20 * day,
    )
    assert figures.time_in_stage["planning"].count == 1  # Comet's; the others are still there
    atlas = next(p for p in figures.products if p.product_id == "atlas")
    assert [(s.stage, s.seconds / day, s.left_at is None) for s in atlas.stays] == [
        ("discovery", 10.0, False),
        ("planning", 20.0, True),
    ]
    assert [(g.gate, g.decided, g.first_pass, g.rate) for g in figures.gate_first_pass] == [
        ("discovery", 2, 1, 0.5)
    ]
    grace = next(a for a in figures.approval_latency_by_approver if a.subject == "grace")
    assert (grace.printed_name, grace.latency.count, grace.latency.median_seconds) == (
        "Grace",
        2,
        day,
    )
    assert grace.latency.p90_seconds == 3 * day
    roles = {r.role: r.latency.count for r in figures.approval_latency_by_role}
    assert roles == {"finance": 1, "product-lead": 2}
    assert figures.killed_per_stage == {"planning": 1}


def test_figures_as_of_an_earlier_instant_count_only_what_had_happened() -> None:
    cutoff = T0 + timedelta(days=9, hours=12)
    before = [e for e in journey() if datetime.fromisoformat(e[2]["occurred_at"]) <= cutoff]

    figures = analyse(before, cutoff)

    assert figures.gate_first_pass[0].decided == 1  # only Beacon's recycle so far
    assert figures.gate_first_pass[0].rate == 0.0
    assert figures.killed_per_stage == {"planning": 1}
    assert {a.subject for a in figures.approval_latency_by_approver} == {"grace"}
