"""Quorum (N of M distinct people), optional roles, one vote per person, `review` signatures,
and segregation of duties: the requester never signs, the owner only when the playbook allows."""

from typing import Any

from domain.commands import Verdict
from domain.events import GateReviewRequested, SignOffGiven
from domain.gate_evaluation import CriterionKind, CriterionResult, evaluate_current_gate
from domain.identity import Actor, ActorRef
from domain.playbook import Playbook
from domain.refusals import RefusalKind
from domain.stages import Stage
from domain.state import GateReview, ProductState
from tests.domain.dsl import (
    ADA,
    BARBARA,
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
    go,
    playbook,
    refusal,
    register,
    reject,
    request_review,
    review,
    then,
    types,
    when,
)

KEN = Actor(subject="ken", display_name="Ken Thompson", roles=("legal",))
ADA_IN_LEGAL = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "legal"))

# Two of the legal people must approve; finance is asked too, but only its rejection counts.
QUORUM = playbook(
    discovery={
        "sign_offs": [
            {"role": "legal", "min_approvals": 2},
            {"role": "finance", "optional": True},
        ]
    }
)


def excluding_owner(owner_may_sign: bool) -> Playbook:
    gate: dict[str, Any] = {
        "sign_offs": [{"role": "legal"}],
        "review": {"owner_may_sign": owner_may_sign},
    }
    return playbook(discovery=gate)


def sign_off(state: ProductState, role: str) -> CriterionResult:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    return next(
        c for c in evaluation.criteria if c.kind is CriterionKind.SIGN_OFF and c.key == role
    )


def open_review(state: ProductState) -> GateReview:
    assert state.progress is not None
    assert state.progress.review is not None
    return state.progress.review


def requested_by_someone_else(requester: Actor = GRACE) -> GateReviewRequested:
    """Only the owner requests a review through `decide` today, so the requester and the owner
    are the same person; this event reproduces a round someone else asked for, which is the only
    way the owner-exclusion rule can be told apart from the self-approval rule."""
    return GateReviewRequested(
        event_id="requested-by-someone-else",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=ActorRef(subject=requester.subject, display_name=requester.display_name),
        gate=Stage.DISCOVERY,
        round=1,
        note="",
    )


# -- quorum: N of M distinct people --------------------------------------------------------------


def test_one_approval_of_two_needed_leaves_the_role_short_and_says_who_signed() -> None:
    state = given(register(QUORUM), request_review(), approve(LINUS, "legal"))

    legal = sign_off(state, "legal")

    assert legal.passed is False
    assert legal.reason == "1 of 2 approvals from legal (round 1): Linus Legal"


def test_two_distinct_people_in_the_role_meet_its_quorum_and_both_are_named() -> None:
    state = given(
        register(QUORUM), request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal")
    )

    legal = sign_off(state, "legal")

    assert legal.passed is True
    assert legal.reason == "2 of 2 approvals from legal (round 1): Linus Legal, Margaret Hamilton"


def test_go_is_refused_short_of_quorum_and_accepted_once_it_is_met() -> None:
    state = given(register(QUORUM), request_review(), approve(LINUS, "legal"))

    refused = refusal(state, go())

    assert refused.rule == "gate.criteria_unmet"
    assert "sign-off by legal: 1 of 2 approvals from legal (round 1): Linus Legal" in (
        refused.message
    )
    assert types(when(then(state, approve(MARGARET, "legal")), go())) == [
        "GateDecided",
        "StageEntered",
    ]


def test_approvals_beyond_the_quorum_are_still_recorded_and_named() -> None:
    state = given(
        register(QUORUM), request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal")
    )

    state = then(state, approve(KEN, "legal"))

    assert sign_off(state, "legal").reason == (
        "3 of 2 approvals from legal (round 1): Linus Legal, Margaret Hamilton, Ken Thompson"
    )


def test_every_required_role_must_reach_its_own_quorum() -> None:
    pb = playbook(
        discovery={"sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}]}
    )
    state = given(
        register(pb), request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal")
    )

    assert sign_off(state, "legal").passed is True
    finance = sign_off(state, "finance")
    assert finance.passed is False
    assert finance.reason == "0 of 1 approvals from finance (round 1)"


# -- optional roles --------------------------------------------------------------------------


def test_an_optional_role_is_named_as_optional_and_passes_without_any_approval() -> None:
    before = given(register(QUORUM))
    during = then(before, request_review())

    assert sign_off(before, "finance").title == "sign-off by finance (optional)"
    assert sign_off(before, "finance").passed is True
    assert sign_off(before, "finance").reason == (
        "no gate review requested yet; needs no approval from finance, but a rejection blocks"
    )
    assert sign_off(during, "finance").passed is True
    assert sign_off(during, "finance").reason == "optional; 0 approval(s) from finance"


def test_a_gate_passes_without_its_optional_roles_approving() -> None:
    state = given(
        register(QUORUM), request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal")
    )

    assert types(when(state, go())) == ["GateDecided", "StageEntered"]


def test_an_optional_approval_is_recorded_and_named_in_the_reason() -> None:
    state = given(register(QUORUM), request_review(), approve(EDSGER, "finance"))

    assert (
        sign_off(state, "finance").reason == "optional; 1 approval(s) from finance: Edsger Dijkstra"
    )


def test_a_rejection_in_an_optional_role_blocks_the_gate() -> None:
    state = given(
        register(QUORUM),
        request_review(),
        approve(LINUS, "legal"),
        approve(MARGARET, "legal"),
        reject(EDSGER, "finance", "too expensive"),
    )

    expected = "rejected in round 1 by Edsger Dijkstra (finance): too expensive"
    assert (sign_off(state, "finance").passed, sign_off(state, "finance").reason) == (
        False,
        expected,
    )
    assert (sign_off(state, "legal").passed, sign_off(state, "legal").reason) == (False, expected)
    refused = refusal(state, go())
    assert refused.rule == "gate.criteria_unmet"
    assert expected in refused.message


# -- one vote per person -----------------------------------------------------------------------


def test_a_person_with_two_roles_counts_only_in_the_role_they_signed_in() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}, {"role": "finance"}]})
    state = given(register(pb), request_review(), approve(BARBARA, "legal"))

    assert sign_off(state, "legal").passed is True
    assert sign_off(state, "finance").reason == "0 of 1 approvals from finance (round 1)"
    refused = refusal(state, approve(BARBARA, "finance"))
    assert refused.rule == "signoff.duplicate_vote"
    assert refused.kind is RefusalKind.CONFLICT
    assert "Barbara Liskov" in refused.message
    assert "approve as legal" in refused.message


def test_a_rejection_in_an_optional_role_closes_the_round_to_further_votes() -> None:
    pb = playbook(
        discovery={"sign_offs": [{"role": "legal"}, {"role": "finance", "optional": True}]}
    )
    state = given(register(pb), request_review(), reject(BARBARA, "finance", "too expensive"))

    refused = refusal(state, approve(BARBARA, "legal"))

    # The round is rejected, which is refused before anything else is looked at.
    assert refused.rule == "signoff.round_rejected"
    assert "Barbara Liskov" in refused.message


# -- the `review` signature: read, neither approve nor reject ----------------------------------


def test_a_review_signature_is_recorded_with_its_meaning() -> None:
    state = given(register(QUORUM), request_review())

    [event] = when(state, review(LINUS, "legal", reason="read the DPA"))
    signed = open_review(then(state, review(LINUS, "legal", reason="read the DPA")))

    assert isinstance(event, SignOffGiven)
    assert (event.verdict, event.reason, event.actor.role) == (
        Verdict.REVIEW,
        "read the DPA",
        "legal",
    )
    assert [(s.voter, s.verdict) for s in signed.sign_offs] == [("linus", Verdict.REVIEW)]


def test_a_review_signature_neither_counts_toward_quorum_nor_blocks() -> None:
    state = given(
        register(QUORUM),
        request_review(),
        review(LINUS, "legal"),
        approve(MARGARET, "legal"),
        review(EDSGER, "finance"),
    )

    legal = sign_off(state, "legal")
    assert (legal.passed, legal.reason) == (
        False,
        "1 of 2 approvals from legal (round 1): Margaret Hamilton",
    )
    assert sign_off(state, "finance").passed is True
    state = then(state, approve(KEN, "legal"))
    assert types(when(state, go())) == ["GateDecided", "StageEntered"]


def test_a_review_signature_uses_the_persons_one_vote() -> None:
    state = given(register(QUORUM), request_review(), review(LINUS, "legal"))

    refused = refusal(state, approve(LINUS, "legal"))

    assert refused.rule == "signoff.duplicate_vote"
    assert "Linus Legal" in refused.message
    assert "review as legal" in refused.message


# -- segregation of duties: the requester ------------------------------------------------------


def test_the_requester_may_not_sign_even_in_an_optional_role() -> None:
    owner = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "finance"))
    state = given(register(QUORUM, owner=owner), request_review(by=owner))

    for verdict in (approve(owner, "finance"), reject(owner, "finance"), review(owner, "finance")):
        refused = refusal(state, verdict)

        assert refused.rule == "signoff.self_approval"
        assert refused.kind is RefusalKind.FORBIDDEN
        assert "Ada Lovelace requested this review of gate 'discovery'" in refused.message


def test_the_requester_may_not_sign_for_someone_else_through_a_delegation() -> None:
    state = given(register(QUORUM), request_review())
    linus_away = delegation(LINUS, ADA, "legal")

    refused = refusal(state, approve_for(ADA, linus_away))

    assert refused.rule == "signoff.self_approval"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Ada Lovelace" in refused.message
    assert "gate 'discovery'" in refused.message
    assert "not even for someone else" in refused.message


def test_no_one_may_sign_on_behalf_of_the_requester() -> None:
    state = given(register(QUORUM, owner=ADA_IN_LEGAL), request_review(by=ADA_IN_LEGAL))
    ada_away = delegation(ADA_IN_LEGAL, MARGARET, "legal")

    refused = refusal(state, approve_for(MARGARET, ada_away))

    assert refused.rule == "signoff.self_approval"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Ada Lovelace requested this review of gate 'discovery'" in refused.message


# -- segregation of duties: the product owner --------------------------------------------------


def test_the_owner_may_not_sign_when_the_playbook_excludes_the_owner() -> None:
    state = given(register(excluding_owner(False), owner=ADA_IN_LEGAL), requested_by_someone_else())

    refused = refusal(state, approve(ADA_IN_LEGAL, "legal"))

    assert refused.rule == "signoff.owner_excluded"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "product owner (Ada Lovelace)" in refused.message
    assert "gate 'discovery'" in refused.message


def test_no_one_may_sign_for_the_owner_when_the_playbook_excludes_the_owner() -> None:
    state = given(register(excluding_owner(False), owner=ADA_IN_LEGAL), requested_by_someone_else())
    ada_away = delegation(ADA_IN_LEGAL, LINUS, "legal")

    refused = refusal(state, approve_for(LINUS, ada_away))

    assert refused.rule == "signoff.owner_excluded"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "product owner (Ada Lovelace)" in refused.message


def test_the_owner_may_sign_a_round_someone_else_requested_when_the_playbook_allows_it() -> None:
    state = given(register(excluding_owner(True), owner=ADA_IN_LEGAL), requested_by_someone_else())

    assert types(when(state, approve(ADA_IN_LEGAL, "legal"))) == ["SignOffGiven"]


def test_others_still_sign_when_the_owner_is_excluded() -> None:
    state = given(register(excluding_owner(False)), request_review())

    assert types(when(state, approve(LINUS, "legal"))) == ["SignOffGiven"]


def test_an_owner_who_requested_the_round_is_refused_as_requester_whatever_the_playbook_says() -> (
    None
):
    for owner_may_sign in (True, False):
        pb = excluding_owner(owner_may_sign)
        state = given(register(pb, owner=ADA_IN_LEGAL), request_review(by=ADA_IN_LEGAL))

        refused = refusal(state, approve(ADA_IN_LEGAL, "legal"))

        assert refused.rule == "signoff.self_approval", owner_may_sign
        assert "Ada Lovelace" in refused.message


def test_a_requester_who_is_not_the_owner_is_refused_by_name() -> None:
    state = given(register(QUORUM, owner=ADA_IN_LEGAL), requested_by_someone_else(GRACE))
    grace_in_legal = Actor(subject="grace", display_name="Grace Hopper", roles=("legal",))

    refused = refusal(state, approve(grace_in_legal, "legal"))

    assert refused.rule == "signoff.self_approval"
    assert "Grace Hopper requested this review" in refused.message
