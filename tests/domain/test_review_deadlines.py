"""Review deadlines: the SLA's due date, reminders at the playbook's interval, escalation and
the timeout outcome at the deadline, and when the workflow's timer should next wake."""

from datetime import timedelta
from typing import Any

from domain.events import ApproversReminded, ReviewEscalated, ReviewTimedOut
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import ActorRef
from domain.playbook import Playbook
from domain.refusals import RefusalKind
from domain.review_clock import next_review_alarm
from domain.stages import Stage
from domain.state import GateReview, ProductState
from tests.domain.dsl import (
    EDSGER,
    LINUS,
    MARGARET,
    NOW,
    PRODUCT_ID,
    approve,
    enforce_deadline,
    evidence,
    given,
    given_all,
    go,
    hold,
    playbook,
    refusal,
    register,
    reject,
    remind,
    request_review,
    resume,
    then,
    types,
    when,
)

ENGINE = ActorRef(subject="system:lifecycle", display_name="lifecycle engine")
DAY = timedelta(days=1)
DUE = NOW + 10 * DAY
SIGN_OFFS: list[dict[str, Any]] = [
    {"role": "legal", "min_approvals": 2},
    {"role": "finance"},
    {"role": "pm", "optional": True},
]


def timed(on_timeout: str = "escalate", escalate_to: str | None = "gatekeeper") -> Playbook:
    """Reviews of discovery are due ten days after the request, with a reminder every three."""
    policy: dict[str, Any] = {"sla": "P10D", "remind_every": "P3D", "on_timeout": on_timeout}
    if escalate_to is not None:
        policy["escalate_to"] = escalate_to
    return playbook(
        discovery={
            "sign_offs": SIGN_OFFS,
            "evidence": [{"key": "interview", "title": "customer interviews"}],
            "review": policy,
        }
    )


def reviewing(pb: Playbook | None = None) -> ProductState:
    """A review requested at NOW, due at NOW + 10 days."""
    return given(register(pb or timed()), evidence("interview"), request_review())


def at(state: ProductState, moment: Any, *commands: Any) -> ProductState:
    return given_all(commands, state, now=moment)


def open_review(state: ProductState) -> GateReview:
    assert state.progress is not None
    assert state.progress.review is not None
    return state.progress.review


def with_quorum(state: ProductState) -> ProductState:
    return given_all(
        [approve(LINUS, "legal"), approve(MARGARET, "legal"), approve(EDSGER, "finance")], state
    )


# -- the due date ------------------------------------------------------------------------------


def test_a_review_request_records_when_it_is_due() -> None:
    [event] = when(given(register(timed()), evidence("interview")), request_review())

    assert event.type == "GateReviewRequested"
    assert event.due_at == DUE
    assert open_review(reviewing()).due_at == DUE


def test_a_review_without_an_sla_has_no_due_date() -> None:
    pb = playbook(discovery={"sign_offs": SIGN_OFFS})

    [event] = when(given(register(pb)), request_review())

    assert event.type == "GateReviewRequested"
    assert event.due_at is None


# -- reminders ---------------------------------------------------------------------------------


def test_no_reminder_before_the_first_interval_has_passed() -> None:
    assert when(reviewing(), remind(), now=NOW + 3 * DAY - timedelta(seconds=1)) == []


def test_a_reminder_at_the_interval_names_the_roles_still_waiting() -> None:
    state = at(reviewing(), NOW + DAY, approve(LINUS, "legal"), approve(EDSGER, "finance"))

    events = when(state, remind(), now=NOW + 3 * DAY)

    assert events == [
        ApproversReminded(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW + 3 * DAY,
            actor=ENGINE,
            gate=Stage.DISCOVERY,
            round=1,
            waiting_roles=("legal",),
            reminder=1,
        )
    ]


def test_an_optional_role_is_never_waited_for() -> None:
    [event] = when(reviewing(), remind(), now=NOW + 3 * DAY)

    assert isinstance(event, ApproversReminded)
    assert event.waiting_roles == ("legal", "finance")


def test_a_reminder_is_not_repeated_until_the_next_interval() -> None:
    state = at(reviewing(), NOW + 3 * DAY, remind())
    assert open_review(state).reminders == 1

    assert when(state, remind(), now=NOW + 3 * DAY) == []
    assert when(state, remind(), now=NOW + 6 * DAY - timedelta(seconds=1)) == []
    [second] = when(state, remind(), now=NOW + 6 * DAY)
    assert isinstance(second, ApproversReminded)
    assert second.reminder == 2


def test_a_late_timer_still_sends_the_reminder_that_is_due() -> None:
    [event] = when(reviewing(), remind(), now=NOW + 4 * DAY)

    assert isinstance(event, ApproversReminded)
    assert event.reminder == 1


def test_no_reminder_once_every_required_role_has_its_quorum() -> None:
    state = with_quorum(reviewing())

    assert when(state, remind(), now=NOW + 3 * DAY) == []


def test_no_reminder_while_the_product_is_on_hold() -> None:
    state = then(reviewing(), hold())

    assert when(state, remind(), now=NOW + 3 * DAY) == []


def test_no_reminder_once_the_round_is_rejected() -> None:
    state = then(reviewing(), reject(LINUS, "legal", "no DPA"))

    assert when(state, remind(), now=NOW + 3 * DAY) == []


def test_no_reminder_without_an_open_review() -> None:
    state = given(register(timed()), evidence("interview"))

    assert when(state, remind(), now=NOW + 3 * DAY) == []


def test_no_reminder_at_or_after_the_deadline() -> None:
    state = at(reviewing(), NOW + 9 * DAY, remind(), remind(), remind())
    assert open_review(state).reminders == 3

    assert when(state, remind(), now=DUE) == []
    assert when(state, remind(), now=DUE + 3 * DAY) == []


def test_no_reminder_when_the_playbook_sets_no_interval() -> None:
    pb = playbook(discovery={"sign_offs": SIGN_OFFS, "review": {"sla": "P10D"}})
    state = given(register(pb), request_review())

    assert when(state, remind(), now=NOW + 9 * DAY) == []


# -- the deadline ------------------------------------------------------------------------------


def test_nothing_happens_before_the_deadline() -> None:
    assert when(reviewing(), enforce_deadline(), now=DUE - timedelta(seconds=1)) == []


def test_at_the_deadline_the_review_is_escalated_and_times_out() -> None:
    state = at(reviewing(), NOW + DAY, approve(LINUS, "legal"))

    events = when(state, enforce_deadline(), now=DUE)

    stamp = {"product_id": PRODUCT_ID, "occurred_at": DUE, "actor": ENGINE}
    assert events == [
        ReviewEscalated(
            event_id="id-1",
            **stamp,
            gate=Stage.DISCOVERY,
            round=1,
            to_role="gatekeeper",
            waiting_roles=("legal", "finance"),
        ),
        ReviewTimedOut(
            event_id="id-2",
            **stamp,
            gate=Stage.DISCOVERY,
            round=1,
            outcome="escalate",
            due_at=DUE,
        ),
    ]


def test_without_an_escalation_role_the_review_only_times_out() -> None:
    events = when(reviewing(timed(escalate_to=None)), enforce_deadline(), now=DUE)

    assert types(events) == ["ReviewTimedOut"]


def test_escalate_leaves_the_round_open_for_signing() -> None:
    state = at(reviewing(), DUE, enforce_deadline())

    review = open_review(state)
    assert (review.escalated_to, review.timed_out) == ("gatekeeper", "escalate")
    assert review.rejection() is None
    assert not state.on_hold
    assert types(when(state, approve(LINUS, "legal"), now=DUE + DAY)) == ["SignOffGiven"]


def test_auto_reject_rejects_the_round_naming_the_deadline() -> None:
    state = at(reviewing(timed("auto_reject")), DUE, enforce_deadline())

    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    reasons = {c.key: (c.passed, c.reason) for c in evaluation.criteria if c.kind == "sign_off"}
    expected = (
        f"rejected in round 1 by lifecycle engine: no decision by the deadline {DUE.isoformat()}"
    )
    assert reasons == {
        "legal": (False, expected),
        "finance": (False, expected),
        "pm": (False, expected),
    }
    refused = refusal(state, approve(LINUS, "legal"), now=DUE + DAY)
    assert refused.rule == "signoff.round_rejected"
    assert "rejected by lifecycle engine" in refused.message


def test_after_an_auto_reject_the_owner_may_ask_again_in_a_new_round() -> None:
    state = at(reviewing(timed("auto_reject")), DUE, enforce_deadline())

    state = at(state, DUE + DAY, request_review())

    assert open_review(state).round == 2
    assert open_review(state).due_at == DUE + DAY + 10 * DAY


def test_hold_puts_the_product_on_hold_at_the_deadline() -> None:
    state = at(reviewing(timed("hold")), DUE, enforce_deadline())

    assert (state.on_hold, state.hold_reason) == (True, "review deadline passed")
    refused = refusal(state, approve(LINUS, "legal"), now=DUE + DAY)
    assert refused.rule == "product.on_hold"
    assert refused.kind is RefusalKind.CONFLICT
    assert "review deadline passed" in refused.message
    state = at(state, DUE + DAY, resume())
    assert types(when(state, approve(LINUS, "legal"), now=DUE + DAY)) == ["SignOffGiven"]


def test_a_deadline_is_enforced_only_once() -> None:
    for outcome in ("escalate", "auto_reject", "hold"):
        state = at(reviewing(timed(outcome)), DUE, enforce_deadline())

        assert when(state, enforce_deadline(), now=DUE + DAY) == [], outcome
        assert when(state, remind(), now=DUE + DAY) == [], outcome


def test_a_deadline_is_not_enforced_once_every_required_role_has_its_quorum() -> None:
    state = with_quorum(reviewing())

    assert when(state, enforce_deadline(), now=DUE) == []


def test_a_deadline_is_not_enforced_on_hold_or_after_a_rejection_or_a_decision() -> None:
    held = then(reviewing(), hold())
    rejected = then(reviewing(), reject(LINUS, "legal", "no DPA"))
    decided = then(with_quorum(reviewing()), go())

    for state in (held, rejected, decided):
        assert when(state, enforce_deadline(), now=DUE) == []


# -- when the timer should next wake -----------------------------------------------------------


def test_the_alarm_is_the_first_reminder_after_a_request() -> None:
    assert next_review_alarm(reviewing()) == NOW + 3 * DAY


def test_the_alarm_moves_to_the_next_reminder_after_each_one() -> None:
    state = reviewing()
    for n in (1, 2):
        state = at(state, NOW + 3 * n * DAY, remind())
        assert next_review_alarm(state) == NOW + 3 * (n + 1) * DAY


def test_the_alarm_is_the_deadline_once_no_reminder_falls_before_it() -> None:
    state = at(reviewing(), NOW + 9 * DAY, remind(), remind(), remind())

    assert next_review_alarm(state) == DUE


def test_a_reminder_falling_on_the_deadline_gives_way_to_it() -> None:
    pb = playbook(
        discovery={"sign_offs": SIGN_OFFS, "review": {"sla": "P9D", "remind_every": "P3D"}}
    )
    state = at(given(register(pb), request_review()), NOW + 6 * DAY, remind(), remind())

    assert next_review_alarm(state) == NOW + 9 * DAY
    assert when(state, remind(), now=NOW + 9 * DAY) == []


def test_the_alarm_is_the_deadline_when_there_are_no_reminders() -> None:
    pb = playbook(discovery={"sign_offs": SIGN_OFFS, "review": {"sla": "P10D"}})

    assert next_review_alarm(given(register(pb), request_review())) == DUE


def test_there_is_no_alarm_when_nothing_is_to_be_chased() -> None:
    no_sla = given(register(playbook(discovery={"sign_offs": SIGN_OFFS})), request_review())
    situations = {
        "no review yet": given(register(timed()), evidence("interview")),
        "no sla": no_sla,
        "on hold": then(reviewing(), hold()),
        "rejected": then(reviewing(), reject(LINUS, "legal", "no DPA")),
        "timed out": at(reviewing(), DUE, enforce_deadline()),
        "voided by new evidence": then(reviewing(), evidence("interview")),
        "decided": then(with_quorum(reviewing()), go()),
        "quorum met, awaiting the decision": with_quorum(reviewing()),
    }

    for situation, state in situations.items():
        assert next_review_alarm(state) is None, situation


def test_the_alarm_returns_after_resume() -> None:
    state = at(reviewing(), NOW + DAY, hold(), resume())

    assert next_review_alarm(state) == NOW + 3 * DAY


def test_every_alarm_is_answered_by_an_event_so_the_timer_never_spins() -> None:
    """Firing the timer commands at the alarm must change the state, or clear the alarm;
    otherwise the workflow would wake again at once for the same moment."""
    for outcome in ("escalate", "auto_reject", "hold"):
        state = at(reviewing(timed(outcome)), NOW + DAY, approve(LINUS, "legal"))
        seen = []
        while (alarm := next_review_alarm(state)) is not None:
            seen.append(alarm)
            assert len(seen) < 10, seen
            after = at(state, alarm, enforce_deadline(), remind())
            assert after.version > state.version, (outcome, alarm)
            state = after

        assert seen == [NOW + 3 * DAY, NOW + 6 * DAY, NOW + 9 * DAY, DUE], outcome


def test_once_quorum_is_met_the_alarm_is_cleared_rather_than_left_in_the_past() -> None:
    state = at(reviewing(), NOW + 3 * DAY, remind())
    assert next_review_alarm(state) == NOW + 6 * DAY

    state = with_quorum(state)

    assert when(state, enforce_deadline(), now=NOW + 6 * DAY) == []
    assert when(state, remind(), now=NOW + 6 * DAY) == []
    assert next_review_alarm(state) is None
