"""The playbook's automatic decisions: `when_criteria_hold` and `when_unanimous`, applied after
every accepted command, never while the product is on hold."""

from typing import Any

from domain.commands import GateOutcome
from domain.events import GateDecided
from domain.rules.decisions import automatic_advances
from domain.stages import Stage
from tests.domain.dsl import (
    BARBARA,
    EDSGER,
    LINUS,
    MARGARET,
    NOW,
    Ids,
    approve,
    given,
    go,
    hold,
    measure,
    playbook,
    register,
    reject,
    remind,
    request_review,
    resume,
    review,
    revoke,
    then,
    types,
    when,
)

PASSES = ["GateDecided", "StageEntered"]
# legal must approve; finance is optional.
SIGN_OFFS: list[dict[str, Any]] = [{"role": "legal"}, {"role": "finance", "optional": True}]
WHEN_CRITERIA_HOLD = playbook(
    discovery={"auto_decision": "when_criteria_hold", "sign_offs": SIGN_OFFS}
)
WHEN_UNANIMOUS = playbook(discovery={"auto_decision": "when_unanimous", "sign_offs": SIGN_OFFS})
ACTIVATION = [{"metric": "activation", "comparison": ">=", "threshold": 40}]


def automatic_decision(events: list[Any]) -> GateDecided:
    [decided] = [e for e in events if isinstance(e, GateDecided)]
    assert decided.automatic is True
    assert decided.outcome is GateOutcome.GO
    assert decided.actor.subject == "system:lifecycle"
    return decided


# -- when_criteria_hold ------------------------------------------------------------------------


def test_when_criteria_hold_passes_on_the_approval_that_completes_the_criteria() -> None:
    state = given(register(WHEN_CRITERIA_HOLD), request_review())

    events = when(state, approve(LINUS, "legal"))

    assert types(events) == ["SignOffGiven", *PASSES]
    assert automatic_decision(events).reason == (
        "every criterion holds; the playbook passes this gate automatically (when criteria hold)"
    )
    assert then(state, approve(LINUS, "legal")).stage is Stage.PLANNING


def test_when_criteria_hold_does_not_wait_for_optional_roles() -> None:
    state = given(register(WHEN_CRITERIA_HOLD), request_review())

    assert types(when(state, approve(LINUS, "legal"))) == ["SignOffGiven", *PASSES]


def test_when_criteria_hold_waits_while_an_approval_is_missing() -> None:
    pb = playbook(
        discovery={
            "auto_decision": "when_criteria_hold",
            "sign_offs": [{"role": "legal", "min_approvals": 2}],
        }
    )
    state = given(register(pb), request_review())

    assert types(when(state, approve(LINUS, "legal"))) == ["SignOffGiven"]
    assert types(when(then(state, approve(LINUS, "legal")), approve(MARGARET, "legal"))) == [
        "SignOffGiven",
        *PASSES,
    ]


def test_the_older_auto_advance_spelling_means_when_criteria_hold() -> None:
    pb = playbook(discovery={"auto_advance": True, "sign_offs": SIGN_OFFS})
    state = given(register(pb), request_review())

    decided = automatic_decision(when(state, approve(LINUS, "legal")))

    assert "(when criteria hold)" in decided.reason


# -- when_unanimous ----------------------------------------------------------------------------


def test_when_unanimous_waits_for_the_optional_roles_too() -> None:
    state = given(register(WHEN_UNANIMOUS), request_review())

    assert types(when(state, approve(LINUS, "legal"))) == ["SignOffGiven"]
    state = then(state, approve(LINUS, "legal"))
    assert state.stage is Stage.DISCOVERY

    events = when(state, approve(EDSGER, "finance"))

    assert types(events) == ["SignOffGiven", *PASSES]
    assert automatic_decision(events).reason == (
        "every criterion holds; the playbook passes this gate automatically (when unanimous)"
    )


def test_when_unanimous_is_stopped_by_a_review_signature() -> None:
    state = given(register(WHEN_UNANIMOUS), request_review(), review(MARGARET, "legal"))

    state = then(then(state, approve(LINUS, "legal")), approve(EDSGER, "finance"))

    assert state.stage is Stage.DISCOVERY
    # the criteria hold all the same, so a person may still decide Go
    assert types(when(state, go())) == PASSES


def test_when_unanimous_is_stopped_by_a_rejection() -> None:
    state = given(register(WHEN_UNANIMOUS), request_review(), approve(LINUS, "legal"))

    events = when(state, reject(EDSGER, "finance", "no budget"))

    assert types(events) == ["SignOffGiven"]


def test_when_unanimous_passes_once_the_dissenting_signature_is_revoked() -> None:
    state = given(
        register(WHEN_UNANIMOUS),
        request_review(),
        approve(LINUS, "legal"),
        review(EDSGER, "finance"),
    )

    state = then(state, revoke(EDSGER))
    events = when(state, approve(EDSGER, "finance"))

    assert types(events) == ["SignOffGiven", *PASSES]


def test_when_unanimous_needs_every_role_even_if_one_person_could_cover_two() -> None:
    pb = playbook(
        discovery={
            "auto_decision": "when_unanimous",
            "sign_offs": [{"role": "legal"}, {"role": "finance", "optional": True}],
        }
    )
    state = given(register(pb), request_review(), approve(BARBARA, "legal"))

    assert state.stage is Stage.DISCOVERY
    assert types(when(state, approve(EDSGER, "finance"))) == ["SignOffGiven", *PASSES]


def test_when_unanimous_on_a_gate_without_sign_offs_passes_once_the_criteria_hold() -> None:
    pb = playbook(discovery={"auto_decision": "when_unanimous", "metrics": ACTIVATION})
    state = given(register(pb))

    assert types(when(state, measure("activation", 39))) == ["MetricRecorded"]
    assert types(when(state, measure("activation", 41))) == ["MetricRecorded", *PASSES]


def test_a_gate_with_no_automatic_rule_waits_for_a_person() -> None:
    pb = playbook(discovery={"sign_offs": SIGN_OFFS})
    state = given(register(pb), request_review(), approve(LINUS, "legal"))

    assert types(when(state, approve(EDSGER, "finance"))) == ["SignOffGiven"]


# -- never while on hold -----------------------------------------------------------------------


def test_nothing_passes_automatically_while_the_product_is_on_hold() -> None:
    pb = playbook(discovery={"auto_decision": "when_criteria_hold", "metrics": ACTIVATION})
    state = given(register(pb), hold())

    # A metric observation is still recorded on hold; the gate does not pass by itself.
    events = when(state, measure("activation", 50))
    state = then(state, measure("activation", 50))

    assert types(events) == ["MetricRecorded"]
    assert state.stage is Stage.DISCOVERY
    assert automatic_advances(state, NOW, Ids()) == []
    assert when(state, remind()) == []


def test_resuming_a_product_whose_criteria_hold_lets_the_automatic_rule_apply() -> None:
    pb = playbook(discovery={"auto_decision": "when_criteria_hold", "metrics": ACTIVATION})
    state = given(register(pb), hold(), measure("activation", 50))

    events = when(state, resume())

    assert types(events) == ["GateDecided", *PASSES]
    assert isinstance(events[0], GateDecided)
    assert events[0].outcome is GateOutcome.RESUME
    assert events[0].automatic is False
    automatic_decision(events[1:])
