"""Sunset: a complete plan before the gate, then communications on their dates and retirement
on the end-of-life date when the exit checklist holds."""

from datetime import timedelta

from domain.alarms import next_alarm
from domain.events import (
    GateDecided,
    RetirementDeferred,
    StageEntered,
    SunsetCommunicationSent,
    SunsetProposed,
)
from domain.gate_evaluation import CriterionKind, evaluate_current_gate
from domain.playbook import Playbook
from domain.refusals import RefusalKind
from domain.rules.sunset import next_sunset_alarm
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import (
    GRACE,
    LINUS,
    MALLORY,
    NOW,
    go,
    hold,
    refusal,
    resume,
    then,
    tick,
    types,
    when,
)
from tests.domain.plans import (
    END_OF_LIFE,
    in_growth,
    in_maturity,
    plans_document,
    propose_sunset,
    run_sunset,
)


def in_sunset() -> ProductState:
    state = then(in_maturity(), propose_sunset())
    return then(state, go(reason="sunset approved"))


def test_a_complete_plan_is_recorded_with_its_communications_scheduled() -> None:
    [proposed] = when(in_maturity(), propose_sunset())

    assert isinstance(proposed, SunsetProposed)
    assert proposed.end_of_life == END_OF_LIFE
    assert proposed.transition_plan == "one-click export to Widget 2"
    assert [(c.key, c.audience, c.recipient_roles, c.send_at) for c in proposed.communications] == [
        ("announcement", "customers", (), END_OF_LIFE - timedelta(days=60)),
        (
            "stakeholder-update",
            "stakeholders",
            ("legal", "finance"),
            END_OF_LIFE - timedelta(days=14),
        ),
    ]


def test_a_plan_missing_parts_is_refused_naming_each_missing_part() -> None:
    refused = refusal(in_maturity(), propose_sunset(None, transition_plan="", reason=""))

    assert refused.rule == "sunset.plan_incomplete"
    assert refused.kind is RefusalKind.INVALID
    assert refused.message == (
        "the sunset plan for product 'widget' is missing: reason, end-of-life date, "
        "migration/transition plan"
    )
    comms = refusal(in_maturity(), propose_sunset(communication_plan=""))
    assert comms.message.endswith("is missing: customer communication plan")


def test_an_end_of_life_closer_than_the_minimum_notice_is_refused() -> None:
    refused = refusal(in_maturity(), propose_sunset(NOW + timedelta(days=30)))

    assert refused.rule == "sunset.notice_too_short"
    assert refused.message == (
        "end of life 2026-04-01 gives customers less than the 60 days' notice the playbook "
        "asks; the earliest is 2026-05-01"
    )


def test_a_sunset_is_proposed_from_maturity_by_the_owner_or_a_decider() -> None:
    early = refusal(in_growth(), propose_sunset())
    assert early.rule == "sunset.not_in_maturity"
    assert "is in growth" in early.message
    forbidden = refusal(in_maturity(), propose_sunset().model_copy(update={"actor": MALLORY}))
    assert (forbidden.rule, forbidden.kind) == ("sunset.not_permitted", RefusalKind.FORBIDDEN)
    assert when(in_maturity(), propose_sunset().model_copy(update={"actor": GRACE}))
    on_hold = refusal(then(in_maturity(), hold()), propose_sunset())
    assert on_hold.rule == "product.on_hold"


def test_the_gate_into_sunset_reads_the_plan() -> None:
    refused = refusal(in_maturity(), go())
    assert refused.rule == "gate.criteria_unmet"
    assert "sunset plan: no sunset plan proposed yet" in refused.message

    evaluation = evaluate_current_gate(then(in_maturity(), propose_sunset()))

    assert evaluation is not None
    [plan] = [c for c in evaluation.criteria if c.kind is CriterionKind.SUNSET_PLAN]
    assert plan.passed
    assert plan.reason == (
        "proposed by Ada Lovelace: end of life 2026-05-31, 2 communication(s) scheduled"
    )


def test_a_playbook_may_leave_the_plan_out_of_the_gate() -> None:
    document = plans_document()
    document["sunset"] = {"plan_required_at_gate": False}
    state = in_maturity(Playbook.model_validate(document))

    assert then(state, go()).stage is Stage.SUNSET
    assert next_alarm(then(state, go())) is None
    refused = refusal(state, propose_sunset(NOW + timedelta(days=80)))
    assert "less than the 90 days' notice" in refused.message  # the policy's default


def test_nothing_is_scheduled_before_the_go() -> None:
    assert next_sunset_alarm(then(in_maturity(), propose_sunset())) is None


def test_after_the_go_the_alarm_is_the_first_communication_then_the_end_of_life() -> None:
    state = in_sunset()

    assert next_alarm(state) == END_OF_LIFE - timedelta(days=60)
    state = then(state, run_sunset(), now=END_OF_LIFE - timedelta(days=60))
    assert next_alarm(state) == END_OF_LIFE - timedelta(days=14)
    state = then(state, run_sunset(), now=END_OF_LIFE - timedelta(days=14))
    assert next_alarm(state) == END_OF_LIFE


def test_each_communication_is_sent_once_at_its_time() -> None:
    state = in_sunset()
    at = END_OF_LIFE - timedelta(days=60)

    assert when(state, run_sunset(), now=at - timedelta(minutes=1)) == []
    [sent] = when(state, run_sunset(), now=at)
    assert isinstance(sent, SunsetCommunicationSent)
    assert (sent.key, sent.audience, sent.scheduled_for, sent.end_of_life) == (
        "announcement",
        "customers",
        at,
        END_OF_LIFE,
    )
    assert when(then(state, run_sunset(), now=at), run_sunset(), now=at) == []


def test_the_end_of_life_date_retires_the_product_when_the_exit_checklist_holds() -> None:
    state = then(in_sunset(), tick("data-deleted", by=LINUS))

    events = when(state, run_sunset(), now=END_OF_LIFE)

    assert types(events) == [
        "SunsetCommunicationSent",
        "SunsetCommunicationSent",
        "GateDecided",
        "StageEntered",
    ]
    decided, entered = events[2], events[3]
    assert isinstance(decided, GateDecided)
    assert decided.automatic
    assert decided.gate is Stage.SUNSET
    assert decided.reason.startswith("end of life 2026-05-31 reached and the exit checklist holds")
    assert isinstance(entered, StageEntered)
    assert entered.stage is Stage.RETIRED
    assert then(state, run_sunset(), now=END_OF_LIFE).stage is Stage.RETIRED


def test_an_unmet_exit_checklist_defers_retirement_and_retries_later() -> None:
    state = then(in_sunset(), run_sunset(), now=END_OF_LIFE - timedelta(days=14))

    [deferred] = when(state, run_sunset(), now=END_OF_LIFE)

    assert isinstance(deferred, RetirementDeferred)
    assert deferred.unmet == ("Customer data deleted: not done yet (owner role: legal)",)
    assert deferred.retry_at == END_OF_LIFE + timedelta(days=1)
    state = then(state, run_sunset(), now=END_OF_LIFE)
    assert next_alarm(state) == END_OF_LIFE + timedelta(days=1)
    state = then(state, tick("data-deleted", by=LINUS))
    retired = then(state, run_sunset(), now=END_OF_LIFE + timedelta(days=1))
    assert retired.stage is Stage.RETIRED


def test_a_product_on_hold_keeps_its_sunset_clock_still() -> None:
    state = then(in_sunset(), hold())

    assert next_sunset_alarm(state) is None
    assert when(state, run_sunset(), now=END_OF_LIFE) == []
    assert next_sunset_alarm(then(state, resume())) == END_OF_LIFE - timedelta(days=60)


def test_a_person_may_still_retire_the_product_before_the_date() -> None:
    state = then(in_sunset(), tick("data-deleted", by=LINUS))

    assert then(state, go(reason="customers all moved")).stage is Stage.RETIRED
