"""Electronic signatures: every sign-off and decision names the signer, the time, the meaning
and the reason, and carries the hash of the gate state it refers to, so it cannot be moved to
other evidence."""

from domain.commands import Verdict
from domain.events import Event, GateDecided, SignOffGiven
from domain.gate_evaluation import evaluate_current_gate, gate_state_hash
from domain.identity import ActorRef
from domain.state import ProductState
from tests.domain.dsl import (
    LINUS,
    MARGARET,
    NOW,
    approve,
    evidence,
    given,
    go,
    measure,
    playbook,
    register,
    reject,
    request_review,
    tick,
    when,
)

PB = playbook(
    discovery={
        "evidence": [{"key": "interview", "title": "customer interviews"}],
        "checklist": [{"key": "personas", "title": "Personas drafted", "owner_role": "pm"}],
        "sign_offs": [{"role": "legal", "min_approvals": 2}],
    }
)
BARE = playbook(discovery={"evidence": [{"key": "interview", "title": "customer interviews"}]})
HEX = set("0123456789abcdef")


def current_hash(state: ProductState) -> str:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    assert state.progress is not None
    return gate_state_hash(evaluation, state.progress)


def signed_hash(events: list[Event]) -> str:
    [event] = [e for e in events if isinstance(e, SignOffGiven | GateDecided)]
    digest = event.gate_state_hash
    assert len(digest) == 64
    assert set(digest) <= HEX
    return digest


def reviewing() -> ProductState:
    return given(register(PB), evidence("interview"), tick("personas"), request_review())


# -- what a signature says ---------------------------------------------------------------------


def test_a_sign_off_names_signer_time_meaning_reason_and_the_state_signed() -> None:
    state = reviewing()

    [event] = when(state, reject(LINUS, "legal", reason="the DPA is missing"))

    assert isinstance(event, SignOffGiven)
    assert event.actor == ActorRef(subject="linus", display_name="Linus Legal", role="legal")
    assert (event.occurred_at, event.verdict, event.reason) == (
        NOW,
        Verdict.REJECT,
        "the DPA is missing",
    )
    assert event.gate_state_hash == current_hash(state)


def test_a_decision_names_decider_time_meaning_reason_and_the_state_decided_on() -> None:
    state = given(register(BARE), evidence("interview"))

    decided = when(state, go(reason="enough signal"))[0]

    assert isinstance(decided, GateDecided)
    assert decided.actor.subject == "grace"
    assert decided.actor.role == "gatekeeper"
    assert (decided.occurred_at, decided.outcome.value, decided.reason) == (
        NOW,
        "go",
        "enough signal",
    )
    assert decided.gate_state_hash == current_hash(state)
    assert len(decided.gate_state_hash) == 64


def test_an_automatic_decision_carries_the_state_hash_too() -> None:
    pb = playbook(
        discovery={"auto_decision": "when_criteria_hold", "sign_offs": [{"role": "legal"}]}
    )
    state = given(register(pb), request_review())

    events = when(state, approve(LINUS, "legal"))

    decided = next(e for e in events if isinstance(e, GateDecided))
    assert decided.automatic is True
    assert len(decided.gate_state_hash) == 64
    assert set(decided.gate_state_hash) <= HEX


# -- the hash follows the facts ----------------------------------------------------------------


def test_equal_states_give_equal_hashes() -> None:
    first = signed_hash(when(reviewing(), approve(LINUS, "legal")))
    second = signed_hash(when(reviewing(), approve(LINUS, "legal")))

    assert first == second


def test_the_hash_does_not_depend_on_who_signs_or_why() -> None:
    state = reviewing()

    by_linus = signed_hash(when(state, approve(LINUS, "legal", reason="fine")))
    by_margaret = signed_hash(when(state, reject(MARGARET, "legal", reason="not fine")))

    assert by_linus == by_margaret


def test_more_evidence_changes_the_hash() -> None:
    one = given(register(BARE), evidence("interview"))
    two = given(register(BARE), evidence("interview"), evidence("interview"))

    assert signed_hash(when(one, go())) != signed_hash(when(two, go()))


def test_other_evidence_of_the_same_count_changes_the_hash() -> None:
    state = given(register(BARE), evidence("interview"))
    assert state.progress is not None
    swapped = state.progress.model_copy(
        update={
            "evidence": tuple(
                e.model_copy(update={"evidence_id": "another-document"})
                for e in state.progress.evidence
            )
        }
    )
    other = state.model_copy(update={"progress": swapped})

    assert current_hash(state) != current_hash(other)


def test_a_metric_reading_changes_the_hash_of_a_gate_that_judges_it() -> None:
    pb = playbook(
        discovery={"metrics": [{"metric": "activation", "comparison": ">=", "threshold": 40}]}
    )
    low = given(register(pb), measure("activation", 45))
    high = given(register(pb), measure("activation", 55))

    assert signed_hash(when(low, go())) != signed_hash(when(high, go()))


def test_a_new_round_on_the_same_facts_is_a_different_signed_state() -> None:
    first_round = reviewing()
    second_round = given(
        register(PB),
        evidence("interview"),
        tick("personas"),
        request_review(),
        reject(LINUS, "legal", "not yet"),
        request_review(),
    )

    assert signed_hash(when(first_round, approve(MARGARET, "legal"))) != signed_hash(
        when(second_round, approve(MARGARET, "legal"))
    )
