"""Who hears about launch, growth and sunset events, and what they are told (pure)."""

from datetime import datetime, timedelta

from domain.commands import Command
from domain.decide import decide
from domain.events import Event
from domain.evolve import evolve_all
from domain.notifications import Notification
from domain.state import ProductState
from tests.domain.dsl import LINUS, NOW, Ids, given, go, measure, register, tick
from tests.domain.plans import (
    END_OF_LIFE,
    PLANS,
    in_growth,
    in_launch,
    in_maturity,
    propose_sunset,
    remind_gtm,
    review_kpis,
    run_sunset,
)
from workflows.notices import notices_for

MONTH = timedelta(days=30)


def told(
    state: ProductState, command: Command, at: datetime = NOW
) -> tuple[ProductState, list[Notification]]:
    events: list[Event] = decide(state, command, at, Ids("n"))
    after = evolve_all(state, events)
    return after, notices_for(events, after)


def test_an_overdue_gtm_item_reminds_its_owner_role() -> None:
    state = in_launch()
    _, notices = told(state, remind_gtm(), NOW + timedelta(days=16))

    [overdue] = [n for n in notices if n.kind == "gtm_item_overdue"]
    assert overdue.recipient_roles == ["pm"]
    assert overdue.headline == (
        "Overdue (reminder 1): 'Positioning agreed' for the launch of Widget was due 2026-03-18"
    )


def test_the_launch_plan_goes_to_every_owner_role() -> None:
    state = given(register(PLANS), go(), go())
    _, notices = told(state, go())

    [planned] = [n for n in notices if n.kind == "launch_planned"]
    assert planned.recipient_roles == ["finance", "pm"]
    assert planned.headline.startswith("Widget launches on 2026-04-01")
    assert "Pricing approved (finance): due 2026-03-25" in planned.body


def test_a_kpi_off_target_for_n_periods_tells_the_owner_and_the_deciders() -> None:
    state = in_growth()
    state, _ = told(state, measure("nps", 10), NOW + MONTH)
    state, _ = told(state, review_kpis(), NOW + MONTH)
    state, notices = told(state, review_kpis(), NOW + 2 * MONTH)

    [off] = [n for n in notices if n.kind == "kpi_off_target"]
    assert off.recipient_subjects == ["ada"]
    assert off.recipient_roles == ["gatekeeper"]
    assert "nps off target for 2 review periods" in off.headline


def test_a_sunset_is_announced_to_every_role_and_each_communication_goes_out() -> None:
    state, _ = told(in_maturity(), propose_sunset())
    state, notices = told(state, go())

    [announced] = [n for n in notices if n.kind == "sunset_announced"]
    assert announced.recipient_roles == ["pm", "gatekeeper", "legal", "finance"]
    assert announced.headline == "Widget will reach its end of life on 2026-05-31"
    state, notices = told(state, run_sunset(), END_OF_LIFE - timedelta(days=14))
    assert [(n.kind, n.recipient_roles) for n in notices] == [
        ("end_of_life_communication", ["pm", "gatekeeper", "legal", "finance"]),
        ("end_of_life_communication", ["legal", "finance"]),
    ]
    state, notices = told(state, run_sunset(), END_OF_LIFE)
    [deferred] = notices
    assert deferred.kind == "retirement_deferred"
    assert deferred.body == "Customer data deleted: not done yet (owner role: legal)"
    state, _ = told(state, tick("data-deleted", by=LINUS), END_OF_LIFE)
    _, notices = told(state, run_sunset(), END_OF_LIFE + timedelta(days=1))
    assert [n.kind for n in notices] == ["decision", "stage_entered"]
