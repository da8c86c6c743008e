from domain.approvals import sign_offs_awaiting
from domain.stages import Stage
from tests.domain.dsl import (
    ADA,
    BARBARA,
    EDSGER,
    GRACE,
    LINUS,
    MARGARET,
    approve,
    given,
    go,
    playbook,
    register,
    reject,
    request_review,
)

SIGNED = playbook(
    discovery={"sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}]}
)


def test_nothing_waits_before_a_review_is_requested() -> None:
    assert sign_offs_awaiting(given(register(SIGNED)), LINUS) == []


def test_an_open_review_waits_for_each_holder_of_a_required_role() -> None:
    state = given(register(SIGNED), request_review())

    [pending] = sign_offs_awaiting(state, LINUS)

    assert (pending.product_id, pending.gate, pending.role) == ("widget", Stage.DISCOVERY, "legal")
    assert (pending.round, pending.approvals, pending.needed) == (1, 0, 2)
    assert pending.requested_by.subject == ADA.subject
    assert [p.role for p in sign_offs_awaiting(state, EDSGER)] == ["finance"]


def test_a_person_with_two_required_roles_sees_both_but_may_vote_once() -> None:
    state = given(register(SIGNED), request_review())
    assert [p.role for p in sign_offs_awaiting(state, BARBARA)] == ["legal", "finance"]

    after_vote = given(register(SIGNED), request_review(), approve(BARBARA, "legal"))
    assert sign_offs_awaiting(after_vote, BARBARA) == []


def test_nothing_waits_for_people_without_a_required_role_or_for_the_requester() -> None:
    state = given(register(SIGNED), request_review())

    assert sign_offs_awaiting(state, GRACE) == []
    assert sign_offs_awaiting(state, ADA) == []


def test_a_role_whose_quorum_is_met_no_longer_waits() -> None:
    state = given(
        register(SIGNED), request_review(), approve(LINUS, "legal"), approve(MARGARET, "legal")
    )

    assert [p.role for p in sign_offs_awaiting(state, BARBARA)] == ["finance"]


def test_a_rejected_round_and_a_decided_gate_wait_for_nobody() -> None:
    rejected = given(register(SIGNED), request_review(), reject(EDSGER, "finance"))
    assert sign_offs_awaiting(rejected, LINUS) == []

    passed = given(
        register(SIGNED),
        request_review(),
        approve(LINUS, "legal"),
        approve(MARGARET, "legal"),
        approve(EDSGER, "finance"),
        go(),
    )
    assert sign_offs_awaiting(passed, BARBARA) == []
