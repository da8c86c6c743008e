"""Out-of-office delegation: a delegate signs in the principal's role for a period; the
signature records both people and counts as the principal's one vote."""

from datetime import timedelta

from domain.commands import Verdict
from domain.events import SignOffGiven
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import Actor, ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from domain.state import GateReview, ProductState
from tests.domain.dsl import (
    EDSGER,
    GRACE,
    LINUS,
    MARGARET,
    NOW,
    PRODUCT_ID,
    approve,
    approve_for,
    delegation,
    given,
    playbook,
    refusal,
    register,
    request_review,
    then,
    types,
    when,
    without_state_hashes,
)

KEN = Actor(subject="ken", display_name="Ken Thompson", roles=("legal",))

SIGNED = playbook(
    version=3,
    discovery={"sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}]},
)
LINUS_AWAY = delegation(LINUS, MARGARET, "legal")


def open_review(state: ProductState) -> GateReview:
    assert state.progress is not None
    assert state.progress.review is not None
    return state.progress.review


def legal_reason(state: ProductState) -> str:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    return next(c.reason for c in evaluation.criteria if c.key == "legal")


def reviewing() -> ProductState:
    return given(register(SIGNED), request_review())


# -- a valid delegation ------------------------------------------------------------------------


def test_a_delegated_sign_off_records_who_acted_on_whose_behalf_and_under_which_delegation() -> (
    None
):
    events = without_state_hashes(when(reviewing(), approve_for(MARGARET, LINUS_AWAY)))

    assert events == [
        SignOffGiven(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="margaret", display_name="Margaret Hamilton", role="legal"),
            gate=Stage.DISCOVERY,
            round=1,
            verdict=Verdict.APPROVE,
            reason="",
            playbook_version=3,
            on_behalf_of=ActorRef(subject="linus", display_name="Linus Legal", role="legal"),
            delegation_id="dlg-1",
        )
    ]


def test_a_delegated_sign_off_is_the_principals_vote_and_names_both_people() -> None:
    state = then(reviewing(), approve_for(MARGARET, LINUS_AWAY))

    review = open_review(state)
    assert review.has_signed("linus")
    assert not review.has_signed("margaret")
    assert [s.voter for s in review.sign_offs] == ["linus"]
    assert (
        legal_reason(state)
        == "1 of 2 approvals from legal (round 1): Margaret Hamilton for Linus Legal"
    )


def test_a_delegate_need_not_hold_the_delegated_role_themselves() -> None:
    state = reviewing()

    events = when(state, approve_for(GRACE, delegation(LINUS, GRACE, "legal")))

    assert types(events) == ["SignOffGiven"]


def test_the_principals_vote_and_the_delegates_own_vote_are_two_votes() -> None:
    state = given(register(SIGNED), request_review(), approve(MARGARET, "legal"))

    state = then(state, approve_for(MARGARET, LINUS_AWAY))

    assert [s.voter for s in open_review(state).sign_offs] == ["margaret", "linus"]
    assert legal_reason(state) == (
        "2 of 2 approvals from legal (round 1): "
        "Margaret Hamilton, Margaret Hamilton for Linus Legal"
    )


def test_one_delegate_may_sign_for_two_principals_each_once() -> None:
    state = given(
        register(SIGNED),
        request_review(),
        approve_for(KEN, delegation(LINUS, KEN, "legal", delegation_id="dlg-linus")),
        approve_for(KEN, delegation(MARGARET, KEN, "legal", delegation_id="dlg-margaret")),
    )

    assert [s.voter for s in open_review(state).sign_offs] == ["linus", "margaret"]
    assert legal_reason(state).startswith("2 of 2 approvals from legal")


# -- one vote per principal --------------------------------------------------------------------


def test_a_delegate_may_not_vote_for_a_principal_who_already_voted() -> None:
    state = given(register(SIGNED), request_review(), approve(LINUS, "legal"))

    refused = refusal(state, approve_for(MARGARET, LINUS_AWAY))

    assert refused.rule == "signoff.duplicate_vote"
    assert refused.kind is RefusalKind.CONFLICT
    assert "Linus Legal already signed review round 1" in refused.message
    assert "one vote per person" in refused.message


def test_a_principal_may_not_vote_again_after_a_delegate_voted_for_them() -> None:
    state = given(register(SIGNED), request_review(), approve_for(MARGARET, LINUS_AWAY))

    refused = refusal(state, approve(LINUS, "legal"))

    assert refused.rule == "signoff.duplicate_vote"
    assert "Linus Legal already signed review round 1" in refused.message


def test_a_second_delegate_may_not_vote_again_for_the_same_principal() -> None:
    state = given(register(SIGNED), request_review(), approve_for(MARGARET, LINUS_AWAY))

    refused = refusal(state, approve_for(KEN, delegation(LINUS, KEN, "legal", delegation_id="d2")))

    assert refused.rule == "signoff.duplicate_vote"
    assert "Linus Legal" in refused.message


# -- refusals ----------------------------------------------------------------------------------


def test_a_delegation_granted_to_someone_else_is_refused() -> None:
    refused = refusal(reviewing(), approve_for(KEN, LINUS_AWAY))

    assert refused.rule == "signoff.delegation_not_yours"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "delegation dlg-1" in refused.message
    assert "is to margaret" in refused.message
    assert "Ken Thompson" in refused.message


def test_a_delegation_used_in_another_role_is_refused() -> None:
    refused = refusal(reviewing(), approve_for(MARGARET, LINUS_AWAY, role="finance"))

    assert refused.rule == "signoff.delegation_role"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "delegation dlg-1" in refused.message
    assert "'legal'" in refused.message
    assert "'finance'" in refused.message


def test_a_delegation_in_a_role_the_gate_does_not_ask_for_is_refused_as_such() -> None:
    gatekeeping = delegation(GRACE, EDSGER, "gatekeeper")

    refused = refusal(reviewing(), approve_for(EDSGER, gatekeeping))

    assert refused.rule == "signoff.role_not_required"
    assert "'gatekeeper'" in refused.message


def test_a_delegation_that_has_not_started_yet_is_refused() -> None:
    later = delegation(LINUS, MARGARET, "legal", starts_at=NOW + timedelta(seconds=1))

    refused = refusal(reviewing(), approve_for(MARGARET, later))

    assert refused.rule == "signoff.delegation_inactive"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "delegation dlg-1 from Linus Legal" in refused.message
    assert (NOW + timedelta(seconds=1)).isoformat() in refused.message
    assert "does not cover now" in refused.message


def test_a_delegation_covers_the_moment_it_starts() -> None:
    starting_now = delegation(LINUS, MARGARET, "legal", starts_at=NOW)

    assert types(when(reviewing(), approve_for(MARGARET, starting_now))) == ["SignOffGiven"]


def test_a_delegation_no_longer_covers_the_moment_it_ends() -> None:
    ending_now = delegation(
        LINUS, MARGARET, "legal", starts_at=NOW - timedelta(days=1), ends_at=NOW
    )

    refused = refusal(reviewing(), approve_for(MARGARET, ending_now))

    assert refused.rule == "signoff.delegation_inactive"
    assert NOW.isoformat() in refused.message


def test_a_delegation_covers_the_last_instant_before_it_ends() -> None:
    ending_soon = delegation(LINUS, MARGARET, "legal", ends_at=NOW + timedelta(microseconds=1))

    assert types(when(reviewing(), approve_for(MARGARET, ending_soon))) == ["SignOffGiven"]


def test_a_delegation_is_judged_at_the_time_of_the_sign_off_not_of_the_request() -> None:
    state = reviewing()  # requested at NOW
    a_week_later = NOW + timedelta(days=7)
    this_week = delegation(LINUS, MARGARET, "legal", starts_at=NOW, ends_at=a_week_later)

    refused = refusal(state, approve_for(MARGARET, this_week), now=a_week_later)

    assert refused.rule == "signoff.delegation_inactive"
    assert types(
        when(state, approve_for(MARGARET, this_week), now=a_week_later - timedelta(seconds=1))
    ) == ["SignOffGiven"]
