from domain.commands import Verdict
from domain.events import GateReviewRequested, SignOffGiven
from domain.identity import Actor, ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from domain.state import GateReview, ProductState
from tests.domain.dsl import (
    ADA,
    ADA_THE_GATEKEEPER,
    BARBARA,
    EDSGER,
    GRACE,
    LINUS,
    MARGARET,
    NOW,
    PRODUCT_ID,
    approve,
    evidence,
    given,
    playbook,
    refusal,
    register,
    reject,
    request_review,
    then,
    when,
    without_state_hashes,
)

# Two approvals from legal and one from finance close discovery.
SIGNED = playbook(
    version=4,
    discovery={"sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}]},
)
# As above, but the gate also asks for evidence before anyone is asked to sign.
SIGNED_WITH_EVIDENCE = playbook(
    discovery={
        "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}],
        "sign_offs": [{"role": "legal"}],
    }
)


def open_review(state: ProductState) -> GateReview:
    assert state.progress is not None
    assert state.progress.review is not None
    return state.progress.review


# -- requesting a review -----------------------------------------------------------------------


def test_the_owner_requests_the_first_review_round() -> None:
    state = given(register(SIGNED))

    events = when(state, request_review(note="please look"))

    assert events == [
        GateReviewRequested(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
            gate=Stage.DISCOVERY,
            round=1,
            note="please look",
        )
    ]
    review = open_review(then(state, request_review()))
    assert (review.round, review.requested_by.subject, review.sign_offs) == (1, "ada", ())


def test_only_the_product_owner_may_request_a_review() -> None:
    state = given(register(SIGNED))

    refused = refusal(state, request_review(by=LINUS))

    assert refused.rule == "review.not_product_owner"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Ada Lovelace" in refused.message
    assert "gate 'discovery'" in refused.message


def test_a_gate_without_sign_offs_needs_no_review() -> None:
    state = given(register(playbook()))

    refused = refusal(state, request_review())

    assert refused.rule == "review.not_needed"
    assert refused.kind is RefusalKind.CONFLICT
    assert "gate 'discovery'" in refused.message


def test_a_second_review_while_one_is_open_is_refused() -> None:
    state = given(register(SIGNED), request_review(), approve(LINUS, "legal"))

    refused = refusal(state, request_review())

    assert refused.rule == "review.already_open"
    assert refused.kind is RefusalKind.CONFLICT
    assert "round 1" in refused.message
    assert "gate 'discovery'" in refused.message


def test_a_review_is_refused_until_every_other_criterion_holds() -> None:
    state = given(register(SIGNED_WITH_EVIDENCE), evidence("interview"))

    refused = refusal(state, request_review())

    assert refused.rule == "review.criteria_unmet"
    assert refused.kind is RefusalKind.CONFLICT
    assert "gate 'discovery'" in refused.message
    assert "1 criteria unmet" in refused.message
    assert "customer interviews: 1 of 2 customer interviews logged" in refused.message
    assert "sign-off" not in refused.message


def test_a_review_may_be_requested_once_every_other_criterion_holds() -> None:
    state = given(register(SIGNED_WITH_EVIDENCE), evidence("interview"), evidence("interview"))

    assert [e.type for e in when(state, request_review())] == ["GateReviewRequested"]


def test_after_a_rejection_a_new_round_starts_with_no_sign_offs() -> None:
    state = given(
        register(SIGNED),
        request_review(),
        approve(LINUS, "legal"),
        reject(EDSGER, "finance", "too expensive"),
    )

    [event] = when(state, request_review(note="cheaper now"))
    state = then(state, request_review())

    assert isinstance(event, GateReviewRequested)
    assert event.round == 2
    assert state.progress is not None
    assert state.progress.rounds == 2
    assert open_review(state).round == 2
    assert open_review(state).sign_offs == ()


def test_round_numbers_keep_increasing_across_rejections() -> None:
    state = given(register(SIGNED))
    rounds = []
    for _ in range(3):
        state = then(state, request_review())
        rounds.append(open_review(state).round)
        state = then(state, reject(LINUS, "legal"))

    assert rounds == [1, 2, 3]


# -- signing -----------------------------------------------------------------------------------


def test_an_approval_records_the_role_used_the_verdict_the_round_and_the_playbook_version() -> None:
    state = given(register(SIGNED), request_review())

    events = without_state_hashes(when(state, approve(BARBARA, "finance", reason="numbers add up")))

    assert events == [
        SignOffGiven(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="barbara", display_name="Barbara Liskov", role="finance"),
            gate=Stage.DISCOVERY,
            round=1,
            verdict=Verdict.APPROVE,
            reason="numbers add up",
            playbook_version=4,
        )
    ]
    review = open_review(then(state, approve(BARBARA, "finance")))
    assert [(s.signer.subject, s.signer.role, s.verdict) for s in review.sign_offs] == [
        ("barbara", "finance", Verdict.APPROVE)
    ]


def test_a_rejection_records_its_verdict_and_reason() -> None:
    state = given(register(SIGNED), request_review())

    [event] = when(state, reject(LINUS, "legal", "no DPA"))
    review = open_review(then(state, reject(LINUS, "legal", "no DPA")))

    assert isinstance(event, SignOffGiven)
    assert (event.verdict, event.reason, event.round) == (Verdict.REJECT, "no DPA", 1)
    assert event.actor.role == "legal"
    rejection = review.rejection()
    assert rejection is not None
    assert rejection.signer.subject == "linus"


def test_a_sign_off_without_an_open_review_is_refused() -> None:
    state = given(register(SIGNED))

    refused = refusal(state, approve(LINUS, "legal"))

    assert refused.rule == "signoff.no_open_review"
    assert refused.kind is RefusalKind.CONFLICT
    assert "gate 'discovery'" in refused.message


def test_a_sign_off_in_a_role_the_gate_does_not_ask_for_is_refused() -> None:
    state = given(register(SIGNED), request_review())

    refused = refusal(state, approve(GRACE, "gatekeeper"))

    assert refused.rule == "signoff.role_not_required"
    assert refused.kind is RefusalKind.INVALID
    assert "'gatekeeper'" in refused.message
    assert "legal, finance" in refused.message


def test_a_sign_off_in_a_role_the_signer_does_not_hold_is_refused() -> None:
    state = given(register(SIGNED), request_review())

    refused = refusal(state, approve(LINUS, "finance"))

    assert refused.rule == "signoff.role_not_held"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Linus Legal" in refused.message
    assert "'finance'" in refused.message


def test_the_person_who_requested_the_review_may_not_sign_it() -> None:
    owner_in_legal = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "legal"))
    state = given(register(SIGNED, owner=owner_in_legal), request_review(by=owner_in_legal))

    refused = refusal(state, approve(owner_in_legal, "legal"))

    assert refused.rule == "signoff.self_approval"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Ada Lovelace" in refused.message
    assert "gate 'discovery'" in refused.message


def test_one_person_gets_one_vote_per_round() -> None:
    state = given(register(SIGNED), request_review(), approve(LINUS, "legal"))

    refused = refusal(state, approve(LINUS, "legal"))

    assert refused.rule == "signoff.duplicate_vote"
    assert refused.kind is RefusalKind.CONFLICT
    assert "Linus Legal" in refused.message
    assert "round 1" in refused.message


def test_a_person_holding_two_required_roles_still_gets_one_vote() -> None:
    state = given(register(SIGNED), request_review(), approve(BARBARA, "legal"))

    refused = refusal(state, approve(BARBARA, "finance"))

    assert refused.rule == "signoff.duplicate_vote"
    assert "Barbara Liskov" in refused.message


def test_no_one_may_sign_a_round_that_was_already_rejected() -> None:
    state = given(register(SIGNED), request_review(), reject(LINUS, "legal", "no DPA"))

    refused = refusal(state, approve(MARGARET, "legal"))

    assert refused.rule == "signoff.round_rejected"
    assert refused.kind is RefusalKind.CONFLICT
    assert "round 1" in refused.message
    assert "Linus Legal" in refused.message


def test_a_rejection_without_a_reason_is_refused() -> None:
    state = given(register(SIGNED), request_review())

    for blank in ("", "  "):
        refused = refusal(state, reject(LINUS, "legal", reason=blank))

        assert refused.rule == "signoff.reason_required"
        assert refused.kind is RefusalKind.INVALID
        assert "gate 'discovery'" in refused.message


def test_an_approval_needs_no_reason() -> None:
    state = given(register(SIGNED), request_review())

    assert [e.type for e in when(state, approve(LINUS, "legal", reason=""))] == ["SignOffGiven"]


def test_a_voter_of_a_rejected_round_may_vote_again_in_the_next_round() -> None:
    state = given(
        register(SIGNED), request_review(), reject(LINUS, "legal", "no DPA"), request_review()
    )

    [event] = when(state, approve(LINUS, "legal"))

    assert isinstance(event, SignOffGiven)
    assert event.round == 2


def test_the_owner_who_is_also_a_gatekeeper_may_not_sign_their_own_review() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "gatekeeper"}]})
    state = given(register(pb, owner=ADA_THE_GATEKEEPER), request_review(by=ADA))

    refused = refusal(state, approve(ADA_THE_GATEKEEPER, "gatekeeper"))

    assert refused.rule == "signoff.self_approval"


def test_a_decider_may_convene_a_review_and_then_an_excluded_owner_may_not_sign() -> None:
    pb = playbook(
        discovery={"sign_offs": [{"role": "pm"}], "review": {"owner_may_sign": False}},
    )
    state = given(register(pb), request_review(by=GRACE))

    refused = refusal(state, approve(ADA, "pm"))

    assert (refused.rule, refused.kind) == ("signoff.owner_excluded", RefusalKind.FORBIDDEN)
    assert "Ada Lovelace" in refused.message
