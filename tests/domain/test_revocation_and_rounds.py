"""Withdrawing one's own sign-off while the gate is undecided, and review rounds that close
when the facts they were asked on change (their sign-offs kept for the record)."""

from domain.commands import DecideGate, GateOutcome, Verdict
from domain.events import (
    ChecklistItemCompleted,
    ChecklistItemReopened,
    EvidenceSubmitted,
    GateReviewRequested,
    GateReviewVoided,
    SignOffRevoked,
)
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from domain.state import GateProgress, GateReview, ProductState
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
    evidence,
    given,
    go,
    playbook,
    refusal,
    register,
    reject,
    reopen,
    request_review,
    revoke,
    then,
    tick,
    types,
    when,
)

SIGNED = playbook(
    discovery={
        "sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}],
        "evidence": [{"key": "interview", "title": "customer interviews"}],
        "checklist": [{"key": "personas", "title": "Personas drafted", "owner_role": "pm"}],
    }
)
READY = (register(SIGNED), evidence("interview"), tick("personas"))


def progress(state: ProductState) -> GateProgress:
    assert state.progress is not None
    return state.progress


def open_review(state: ProductState) -> GateReview:
    review = progress(state).review
    assert review is not None
    return review


def legal_reason(state: ProductState) -> str:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    return next(c.reason for c in evaluation.criteria if c.key == "legal")


# -- revoking ----------------------------------------------------------------------------------


def test_revoking_records_whose_vote_is_withdrawn_and_why() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"))

    events = when(state, revoke(LINUS, reason="new facts on the DPA"))

    assert events == [
        SignOffRevoked(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="linus", display_name="Linus Legal", role="legal"),
            gate=Stage.DISCOVERY,
            round=1,
            voter="linus",
            reason="new facts on the DPA",
        )
    ]


def test_a_revoked_sign_off_leaves_the_count_and_stays_in_the_rounds_record() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal"))
    assert legal_reason(state).startswith("2 of 2")

    state = then(state, revoke(LINUS))

    review = open_review(state)
    assert [s.voter for s in review.sign_offs] == ["margaret"]
    assert [(s.voter, s.verdict) for s in review.revoked] == [("linus", Verdict.APPROVE)]
    assert legal_reason(state) == "1 of 2 approvals from legal (round 1): Margaret Hamilton"


def test_after_revoking_the_quorum_is_short_again_and_go_is_refused() -> None:
    state = given(
        *READY,
        request_review(),
        approve(LINUS, "legal"),
        approve(MARGARET, "legal"),
        approve(EDSGER, "finance"),
        revoke(EDSGER),
    )

    refused = refusal(state, go())

    assert refused.rule == "gate.criteria_unmet"
    assert "0 of 1 approvals from finance" in refused.message


def test_after_revoking_the_person_may_sign_again() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"), revoke(LINUS))

    state = then(state, approve(LINUS, "legal", reason="checked again"))

    assert [(s.voter, s.reason) for s in open_review(state).sign_offs] == [
        ("linus", "checked again")
    ]
    assert len(open_review(state).revoked) == 1


def test_a_delegate_revokes_the_vote_they_cast_for_the_principal() -> None:
    linus_away = delegation(LINUS, MARGARET, "legal")
    state = given(*READY, request_review(), approve_for(MARGARET, linus_away))

    [event] = when(state, revoke(MARGARET))
    state = then(state, revoke(MARGARET))

    assert isinstance(event, SignOffRevoked)
    assert (event.actor.subject, event.voter) == ("margaret", "linus")
    assert open_review(state).sign_offs == ()
    assert types(when(state, approve(LINUS, "legal"))) == ["SignOffGiven"]


def test_revoking_without_a_sign_off_is_refused() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"))

    refused = refusal(state, revoke(MARGARET))

    assert refused.rule == "signoff.nothing_to_revoke"
    assert refused.kind is RefusalKind.CONFLICT
    assert "Margaret Hamilton has no sign-off in review round 1" in refused.message
    assert "gate 'discovery'" in refused.message


def test_a_principal_cannot_revoke_a_vote_their_delegate_cast() -> None:
    linus_away = delegation(LINUS, MARGARET, "legal")
    state = given(*READY, request_review(), approve_for(MARGARET, linus_away))

    refused = refusal(state, revoke(LINUS))

    assert refused.rule == "signoff.nothing_to_revoke"
    assert "Linus Legal" in refused.message


def test_revoking_without_a_reason_is_refused() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"))

    for blank in ("", "   "):
        refused = refusal(state, revoke(LINUS, reason=blank))

        assert refused.rule == "signoff.reason_required"
        assert refused.kind is RefusalKind.INVALID
        assert "revoking a sign-off" in refused.message


def test_no_sign_off_may_be_revoked_once_the_round_is_rejected() -> None:
    state = given(
        *READY, request_review(), approve(LINUS, "legal"), reject(EDSGER, "finance", "no budget")
    )

    for person in (LINUS, EDSGER):
        refused = refusal(state, revoke(person))

        assert refused.rule == "signoff.round_rejected"
        assert refused.kind is RefusalKind.CONFLICT
        assert "round 1" in refused.message
        assert "rejected by Edsger Dijkstra" in refused.message
        assert "before revoking" in refused.message


def test_nothing_may_be_revoked_without_an_open_review() -> None:
    refused = refusal(given(*READY), revoke(LINUS))

    assert refused.rule == "signoff.no_open_review"
    assert "gate 'discovery'" in refused.message


def test_nothing_may_be_revoked_once_the_gate_is_decided() -> None:
    state = given(
        *READY,
        request_review(),
        approve(LINUS, "legal"),
        approve(MARGARET, "legal"),
        approve(EDSGER, "finance"),
        go(),
    )
    assert state.stage is Stage.PLANNING

    refused = refusal(state, revoke(LINUS))

    assert refused.rule == "signoff.no_open_review"
    assert "gate 'planning'" in refused.message


# -- a round closes when its facts change ------------------------------------------------------


def test_evidence_added_during_an_open_review_voids_the_round_first() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"))

    events = when(state, evidence("interview", title="one more interview"))

    assert types(events) == ["GateReviewVoided", "EvidenceSubmitted"]
    voided = events[0]
    assert voided == GateReviewVoided(
        event_id="id-1",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
        gate=Stage.DISCOVERY,
        round=1,
        reason="evidence 'interview' was added",
    )
    assert isinstance(events[1], EvidenceSubmitted)


def test_a_checklist_item_reopened_during_an_open_review_voids_the_round_first() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"))

    events = when(state, reopen("personas", reason="personas were wrong"))

    assert types(events) == ["GateReviewVoided", "ChecklistItemReopened"]
    voided, reopened = events
    assert isinstance(voided, GateReviewVoided)
    assert (voided.round, voided.reason) == (1, "checklist item 'personas' was reopened")
    assert isinstance(reopened, ChecklistItemReopened)
    assert progress(then(state, reopen("personas"))).review is None


def test_a_checklist_item_completed_during_an_open_review_voids_the_round_first() -> None:
    # Every item is done before a review may be requested and reopening one voids the round,
    # so an open round with an undone item only arises from history written differently; it
    # is folded here as it stands.
    undone = ChecklistItemReopened(
        event_id="reopened-outside-decide",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
        gate=Stage.DISCOVERY,
        item="personas",
        reason="imported",
    )
    state = given(*READY, request_review(), approve(LINUS, "legal"), undone)
    assert progress(state).review is not None

    events = when(state, tick("personas"))

    assert types(events) == ["GateReviewVoided", "ChecklistItemCompleted"]
    voided, completed = events
    assert isinstance(voided, GateReviewVoided)
    assert voided.reason == "checklist item 'personas' was completed"
    assert isinstance(completed, ChecklistItemCompleted)


def test_a_voided_rounds_sign_offs_move_to_the_closed_reviews() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"), approve(EDSGER, "finance"))

    state = then(state, evidence("interview"))

    assert progress(state).review is None
    assert progress(state).rounds == 1
    [closed] = progress(state).closed_reviews
    assert closed.round == 1
    assert [s.voter for s in closed.sign_offs] == ["linus", "edsger"]


def test_no_one_may_sign_a_voided_round() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"), evidence("interview"))

    refused = refusal(state, approve(MARGARET, "legal"))

    assert refused.rule == "signoff.no_open_review"
    assert "gate 'discovery'" in refused.message


def test_after_a_voided_round_a_new_request_opens_the_next_round_with_no_sign_offs() -> None:
    state = given(*READY, request_review(), approve(LINUS, "legal"), evidence("interview"))

    [event] = when(state, request_review(note="with the new interview"))
    state = then(state, request_review())

    assert isinstance(event, GateReviewRequested)
    assert event.round == 2
    assert open_review(state).round == 2
    assert open_review(state).sign_offs == ()
    assert [r.round for r in progress(state).closed_reviews] == [1]
    assert legal_reason(state) == "0 of 2 approvals from legal (round 2)"


def test_a_voter_of_a_voided_round_votes_again_in_the_next() -> None:
    state = given(
        *READY, request_review(), approve(LINUS, "legal"), evidence("interview"), request_review()
    )

    state = then(state, approve(LINUS, "legal"))

    assert [s.voter for s in open_review(state).sign_offs] == ["linus"]


def test_a_rejected_round_is_not_voided_again_by_new_evidence() -> None:
    state = given(*READY, request_review(), reject(LINUS, "legal", "no DPA"))

    events = when(state, evidence("interview"))
    state = then(state, evidence("interview"))

    assert types(events) == ["EvidenceSubmitted"]
    assert open_review(state).rejection() is not None  # still the answer of round 1


def test_a_rejected_round_moves_to_the_closed_reviews_when_the_next_round_opens() -> None:
    state = given(*READY, request_review(), reject(LINUS, "legal", "no DPA"), evidence("interview"))

    state = then(state, request_review())

    assert open_review(state).round == 2
    [closed] = progress(state).closed_reviews
    assert (closed.round, closed.sign_offs[0].verdict) == (1, Verdict.REJECT)


def test_evidence_without_an_open_review_voids_nothing() -> None:
    assert types(when(given(*READY), evidence("interview"))) == ["EvidenceSubmitted"]


def test_round_numbers_keep_counting_after_a_recycle_to_the_same_stage() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}]})
    state = given(
        register(pb),
        request_review(),
        DecideGate(
            actor=GRACE, outcome=GateOutcome.RECYCLE, reason="redo", recycle_to=Stage.DISCOVERY
        ),
    )

    [requested] = when(state, request_review())

    assert isinstance(requested, GateReviewRequested)
    assert requested.round == 2
