"""The approvals inbox never offers a sign-off the domain would refuse: optional roles, owner
exclusion, holds and deadlines included."""

from typing import Any

import pytest

from domain.approvals import sign_offs_awaiting
from domain.decide import decide
from domain.events import GateReviewRequested
from domain.identity import Actor, ActorRef
from domain.playbook import Playbook
from domain.refusals import CommandRefused
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import (
    ADA,
    BARBARA,
    EDSGER,
    GRACE,
    LINUS,
    MALLORY,
    MARGARET,
    NOW,
    PRODUCT_ID,
    Ids,
    approve,
    approve_for,
    delegation,
    enforce_deadline,
    evidence,
    given,
    given_all,
    hold,
    playbook,
    register,
    reject,
    request_review,
    resume,
    review,
    then,
)

ADA_IN_LEGAL = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "legal"))
CAST = (ADA, ADA_IN_LEGAL, GRACE, LINUS, MARGARET, EDSGER, BARBARA, MALLORY)
DUE = NOW.replace(day=12)


def timed(on_timeout: str, **review_policy: Any) -> Playbook:
    return playbook(
        discovery={
            "sign_offs": [
                {"role": "legal", "min_approvals": 2},
                {"role": "finance", "optional": True},
            ],
            "review": {"sla": "P10D", "on_timeout": on_timeout, **review_policy},
        }
    )


OPTIONAL = timed("escalate")


def requested_by(requester: Actor) -> GateReviewRequested:
    """A round someone other than the owner asked for (only possible in imported history)."""
    return GateReviewRequested(
        event_id="requested-elsewhere",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=ActorRef(subject=requester.subject, display_name=requester.display_name),
        gate=Stage.DISCOVERY,
        round=1,
        note="",
        due_at=DUE,
    )


def roles_for(state: ProductState, actor: Actor) -> list[str]:
    return [p.role for p in sign_offs_awaiting(state, actor)]


def test_nothing_waits_while_the_product_is_on_hold() -> None:
    state = given(register(OPTIONAL), request_review(), hold())

    for person in CAST:
        assert sign_offs_awaiting(state, person) == [], person.subject


def test_the_inbox_fills_again_after_resume() -> None:
    state = given(register(OPTIONAL), request_review(), hold(), resume())

    assert roles_for(state, LINUS) == ["legal"]


def test_nothing_waits_once_a_hold_timeout_put_the_product_on_hold() -> None:
    state = given_all([enforce_deadline()], given(register(timed("hold")), request_review()), DUE)

    assert state.on_hold
    assert sign_offs_awaiting(state, LINUS) == []


def test_nothing_waits_once_the_deadline_rejected_the_round() -> None:
    pb = timed("auto_reject")
    state = given_all([enforce_deadline()], given(register(pb), request_review()), DUE)

    assert sign_offs_awaiting(state, LINUS) == []


def test_an_escalated_round_still_waits_for_its_approvers() -> None:
    state = given_all([enforce_deadline()], given(register(OPTIONAL), request_review()), DUE)

    assert roles_for(state, LINUS) == ["legal"]


def test_nothing_waits_for_an_excluded_owner() -> None:
    pb = timed("escalate", owner_may_sign=False)
    state = given(register(pb, owner=ADA_IN_LEGAL), requested_by(GRACE))

    assert sign_offs_awaiting(state, ADA_IN_LEGAL) == []
    assert roles_for(state, LINUS) == ["legal"]


def test_an_owner_who_may_sign_sees_a_round_someone_else_requested() -> None:
    state = given(register(OPTIONAL, owner=ADA_IN_LEGAL), requested_by(GRACE))

    assert roles_for(state, ADA_IN_LEGAL) == ["legal"]


def test_an_optional_role_is_offered_because_its_sign_off_is_accepted() -> None:
    state = given(register(OPTIONAL), request_review())

    assert roles_for(state, EDSGER) == ["finance"]


def test_a_review_signature_uses_up_the_persons_turn() -> None:
    state = given(register(OPTIONAL), request_review(), review(LINUS, "legal"))

    assert sign_offs_awaiting(state, LINUS) == []


def test_a_delegate_still_sees_their_own_turn_after_signing_for_someone_else() -> None:
    state = given(
        register(OPTIONAL),
        request_review(),
        approve_for(MARGARET, delegation(LINUS, MARGARET, "legal")),
    )

    assert roles_for(state, MARGARET) == ["legal"]
    assert sign_offs_awaiting(state, LINUS) == []


def _situations() -> dict[str, ProductState]:
    excluding = timed("escalate", owner_may_sign=False)
    reviewing = given(register(OPTIONAL), request_review())
    return {
        "open": reviewing,
        "one legal approval": then(reviewing, approve(LINUS, "legal")),
        "one review signature": then(reviewing, review(MARGARET, "legal")),
        "optional approval": then(reviewing, approve(EDSGER, "finance")),
        "rejected": then(reviewing, reject(EDSGER, "finance")),
        "on hold": then(reviewing, hold()),
        "resumed": given(register(OPTIONAL), request_review(), hold(), resume()),
        "voided": given(
            register(
                playbook(
                    discovery={
                        "sign_offs": [{"role": "legal"}],
                        "evidence": [{"key": "interview", "title": "interviews"}],
                    }
                )
            ),
            evidence("interview"),
            request_review(),
            evidence("interview"),
        ),
        "escalated": given_all([enforce_deadline()], reviewing, DUE),
        "hold timeout": given_all(
            [enforce_deadline()], given(register(timed("hold")), request_review()), DUE
        ),
        "auto-reject timeout": given_all(
            [enforce_deadline()], given(register(timed("auto_reject")), request_review()), DUE
        ),
        "owner excluded, asked by someone else": given(
            register(excluding, owner=ADA_IN_LEGAL), requested_by(GRACE)
        ),
        "owner allowed, asked by someone else": given(
            register(OPTIONAL, owner=ADA_IN_LEGAL), requested_by(GRACE)
        ),
    }


@pytest.mark.parametrize("situation", list(_situations()))
def test_every_sign_off_the_inbox_offers_is_one_the_domain_accepts(situation: str) -> None:
    state = _situations()[situation]
    moment = DUE if "timeout" in situation or situation == "escalated" else NOW

    for person in CAST:
        for pending in sign_offs_awaiting(state, person):
            try:
                decide(state, approve(person, pending.role), moment, Ids())
            except CommandRefused as refused:  # pragma: no cover - the failure message
                pytest.fail(
                    f"{situation}: inbox offers {person.subject} {pending.role}: {refused!r}"
                )
