"""The playbook's launch, growth and sunset sections are checked against the rest of it."""

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest

from domain.playbook import PlaybookInvalid, parse_playbook
from tests.domain.dsl import playbook
from tests.domain.plans import PLANS, plans_document


def problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(document, source="plans.yaml")
    return caught.value.problems


def test_the_plans_playbook_reads_its_sections() -> None:
    assert PLANS.go_to_market is not None
    assert PLANS.go_to_market.schedule[0].due_before_launch == timedelta(days=14)
    assert PLANS.growth is not None
    assert [k.metric for k in PLANS.growth.kpis] == ["activation", "nps"]
    assert PLANS.sunset is not None
    assert PLANS.sunset.min_notice == timedelta(days=60)


def test_a_gtm_item_must_be_a_checklist_item_of_the_launch_gate() -> None:
    document = plans_document()
    document["go_to_market"]["schedule"].append({"item": "press-release"})  # type: ignore[index]

    assert problems_of(document) == [
        "go_to_market.schedule[3](press-release).item: 'press-release' is not a checklist item "
        "of the launch gate (goals, positioning, pricing)"
    ]


def test_a_gtm_item_may_not_be_overdue_the_moment_launch_begins() -> None:
    document = plans_document()
    document["go_to_market"]["schedule"][0]["due_before_launch"] = "P45D"  # type: ignore[index]

    assert problems_of(document) == [
        "go_to_market.schedule[0](positioning).due_before_launch: 'positioning' would be overdue "
        "on entering launch: due 45 days before a launch planned 30 days after entering it"
    ]


def test_a_kpi_must_be_a_declared_metric() -> None:
    document = plans_document()
    document["growth"]["kpis"].append(  # type: ignore[index]
        {"metric": "downloads", "comparison": ">=", "target": 1}
    )

    assert problems_of(document) == [
        "growth.kpis[2](downloads).metric: metric 'downloads' is not declared under metrics"
    ]


def test_a_sunset_communication_goes_to_declared_roles_within_the_notice() -> None:
    document = plans_document()
    sunset = document["sunset"]
    sunset["communications"][1]["recipient_roles"] = ["press"]  # type: ignore[index]

    assert problems_of(document) == [
        "sunset.communications[1](stakeholder-update).recipient_roles[0]: role 'press' is not "
        "declared under roles"
    ]
    document = plans_document()
    document["sunset"]["communications"][0]["before_end_of_life"] = "P120D"  # type: ignore[index]
    [problem] = problems_of(document)
    assert "communications announcement are due earlier than the minimum notice" in problem


def test_durations_must_be_positive_and_offsets_not_negative() -> None:
    document = plans_document()
    document["growth"]["review_every"] = "PT0S"  # type: ignore[index]
    document["go_to_market"]["schedule"][0]["due_before_launch"] = "-P1D"  # type: ignore[index]

    problems = problems_of(document)

    assert any("review_every must be a positive duration" in p for p in problems)
    assert any("due_before_launch must not be negative" in p for p in problems)


def test_a_growth_gate_trend_must_name_a_declared_metric() -> None:
    document = plans_document()
    growth = next(s for s in document["stages"] if s["stage"] == "growth")  # type: ignore[attr-defined]
    growth["exit_gate"]["metric_trends"] = [{"metric": "downloads", "max_growth_percent": 2}]

    [problem] = problems_of(document)

    assert problem.startswith("stages[4](growth).exit_gate.metric_trends[0](downloads).metric")


def test_a_playbook_without_the_sections_keeps_the_fingerprint_it_had() -> None:
    bare = playbook()
    document = bare.model_dump(mode="json")
    for key in ("go_to_market", "growth", "sunset"):
        assert document.pop(key) is None
    for stage in document["stages"]:
        if stage["exit_gate"] is not None:
            assert stage["exit_gate"].pop("metric_trends") == []

    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert bare.fingerprint() == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert PLANS.fingerprint() != bare.fingerprint()
