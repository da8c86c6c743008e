"""Conditional Go: conditions imposed at one gate block the next until the owner meets them."""

from domain.commands import GateOutcome
from domain.events import (
    Condition,
    ConditionMet,
    CriterionSnapshot,
    GateDecided,
    StageEntered,
)
from domain.gate_evaluation import CriterionKind
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.domain.decisions import (
    GATEKEEPER,
    INTERVIEWS,
    PB,
    SIGNED,
    at_stage,
    conditionally_passed,
    criteria,
)
from tests.domain.dsl import (
    GRACE,
    LINUS,
    NOW,
    PRODUCT_ID,
    approve,
    conditional_go,
    evidence,
    given,
    go,
    measure,
    meet,
    playbook,
    recycle,
    refusal,
    register,
    request_review,
    then,
    types,
    when,
    without_state_hashes,
)

# -- Conditional Go ----------------------------------------------------------------------------


def test_a_conditional_go_records_its_conditions_and_enters_the_next_stage() -> None:
    state = given(register(PB), evidence("interview"), evidence("interview"))

    events = without_state_hashes(
        when(state, conditional_go("DPA signed with the pilot customer", reason="strong pull"))
    )

    assert events == [
        GateDecided(
            event_id="id-2",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER,
            gate=Stage.DISCOVERY,
            outcome=GateOutcome.CONDITIONAL_GO,
            reason="strong pull",
            automatic=False,
            playbook_version=5,
            criteria=(
                CriterionSnapshot(
                    kind="evidence",
                    key="interview",
                    passed=True,
                    reason="2 of 2 customer interviews logged",
                ),
            ),
            conditions=(Condition(condition_id="id-1", text="DPA signed with the pilot customer"),),
        ),
        StageEntered(
            event_id="id-3",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER,
            stage=Stage.PLANNING,
            previous_stage=Stage.DISCOVERY,
        ),
    ]


def test_a_conditional_go_carries_every_unmet_criterion_over_as_a_condition() -> None:
    state = given(register(PB), evidence("interview"))

    [decided, _] = when(state, conditional_go("DPA signed"))

    assert isinstance(decided, GateDecided)
    assert [c.text for c in decided.conditions] == [
        "DPA signed",
        "carried over from gate 'discovery': customer interviews: "
        "1 of 2 customer interviews logged",
    ]
    assert len({c.condition_id for c in decided.conditions}) == 2


def test_the_conditions_of_a_conditional_go_are_due_at_the_next_gate() -> None:
    state = conditionally_passed("DPA signed")

    assert state.stage is Stage.PLANNING
    assert [(c.text[:10], c.imposed_at_gate, c.due_gate, c.met_by) for c in state.conditions] == [
        ("DPA signed", Stage.DISCOVERY, Stage.PLANNING, None),
        ("carried ov", Stage.DISCOVERY, Stage.PLANNING, None),
    ]


def test_a_conditional_go_without_conditions_is_refused() -> None:
    state = given(register(PB), evidence("interview"), evidence("interview"))

    refused = refusal(state, conditional_go())

    assert refused.rule == "decision.conditions_required"
    assert refused.kind is RefusalKind.INVALID
    assert "Conditional Go on gate 'discovery'" in refused.message
    assert "at least one condition" in refused.message


def test_a_conditional_go_still_needs_the_sign_offs() -> None:
    state = given(register(SIGNED), measure("activation", 50), request_review())

    refused = refusal(state, conditional_go("DPA signed"))

    assert refused.rule == "gate.sign_offs_unmet"
    assert refused.kind is RefusalKind.CONFLICT
    assert "Conditional Go on gate 'discovery'" in refused.message
    assert "sign-off by legal: 0 of 1 approvals from legal (round 1)" in refused.message


def test_a_conditional_go_without_any_review_names_the_missing_sign_offs() -> None:
    refused = refusal(given(register(SIGNED)), conditional_go("DPA signed"))

    assert refused.rule == "gate.sign_offs_unmet"
    assert "sign-off by legal: no gate review requested yet" in refused.message


def test_a_conditional_go_with_the_sign_offs_in_carries_a_metric_that_slipped() -> None:
    state = given(
        register(SIGNED),
        measure("activation", 50),
        request_review(),
        approve(LINUS, "legal"),
        measure("activation", 30),
    )
    assert refusal(state, go()).rule == "gate.criteria_unmet"

    [decided, entered] = when(state, conditional_go("raise activation"))

    assert isinstance(decided, GateDecided)
    assert [c.text for c in decided.conditions] == [
        "raise activation",
        "carried over from gate 'discovery': activation rate: "
        "activation rate is 30 %, needs >= 40 %",
    ]
    assert isinstance(entered, StageEntered)


def test_a_conditional_go_is_refused_at_the_final_gate() -> None:
    state = at_stage(Stage.SUNSET)

    refused = refusal(state, conditional_go("migrate the last customer"))

    assert refused.rule == "decision.conditional_go_at_final_gate"
    assert refused.kind is RefusalKind.CONFLICT
    assert "gate 'sunset' is the final gate" in refused.message


def test_a_conditional_go_is_allowed_at_the_gate_before_the_final_one() -> None:
    state = at_stage(Stage.MATURITY)

    assert types(when(state, conditional_go("sunset plan agreed"))) == [
        "GateDecided",
        "StageEntered",
    ]


# -- conditions block the next gate until met --------------------------------------------------


def test_an_unmet_condition_is_a_failing_criterion_of_the_next_gate() -> None:
    state = conditionally_passed("DPA signed")
    first = state.conditions[0]

    [condition] = [c for c in criteria(state) if c.key == first.condition_id]

    assert condition.kind is CriterionKind.CONDITION
    assert condition.title == "DPA signed"
    assert condition.passed is False
    assert condition.reason == "condition of the Conditional Go at gate 'discovery' not met yet"


def test_an_unmet_condition_blocks_go_and_review_requests_at_the_next_gate() -> None:
    state = conditionally_passed("DPA signed")

    refused_go = refusal(state, go())
    refused_review = refusal(state, request_review())

    assert refused_go.rule == "gate.criteria_unmet"
    assert "DPA signed: condition of the Conditional Go at gate 'discovery' not met yet" in (
        refused_go.message
    )
    assert refused_review.rule == "review.criteria_unmet"
    assert "DPA signed" in refused_review.message


def test_the_owner_meets_a_condition() -> None:
    state = conditionally_passed("DPA signed")
    condition_id = state.conditions[0].condition_id

    events = when(state, meet(condition_id, note="signed on Friday"))
    state = then(state, meet(condition_id, note="signed on Friday"))

    assert events == [
        ConditionMet(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
            condition_id=condition_id,
            note="signed on Friday",
        )
    ]
    [met] = [c for c in criteria(state) if c.key == condition_id]
    assert (met.passed, met.reason) == (True, "met by Ada Lovelace on 2026-03-02")
    assert state.conditions[0].met_by is not None
    assert state.conditions[0].note == "signed on Friday"


def test_once_every_condition_is_met_the_next_gate_may_pass() -> None:
    state = conditionally_passed("DPA signed")
    for condition in state.conditions:
        state = then(state, meet(condition.condition_id))
    state = then(then(state, request_review()), approve(LINUS, "legal"))

    assert types(when(state, go())) == ["GateDecided", "StageEntered"]


def test_conditions_do_not_block_the_gate_where_they_were_imposed_again() -> None:
    # Recycled back to discovery, the conditions are due at planning, not at discovery.
    state = conditionally_passed("DPA signed")
    state = then(state, recycle(Stage.DISCOVERY))

    assert [c.kind for c in criteria(state)] == [CriterionKind.EVIDENCE]


def test_meeting_an_unknown_condition_is_refused() -> None:
    state = conditionally_passed("DPA signed")

    refused = refusal(state, meet("no-such-condition"))

    assert refused.rule == "condition.unknown"
    assert refused.kind is RefusalKind.INVALID
    assert "'no-such-condition'" in refused.message
    assert f"product '{PRODUCT_ID}'" in refused.message


def test_meeting_a_condition_twice_is_refused() -> None:
    state = conditionally_passed("DPA signed")
    condition_id = state.conditions[0].condition_id
    state = then(state, meet(condition_id))

    refused = refusal(state, meet(condition_id))

    assert refused.rule == "condition.already_met"
    assert refused.kind is RefusalKind.CONFLICT
    assert "'DPA signed'" in refused.message
    assert "Ada Lovelace" in refused.message


def test_only_the_owner_meets_a_condition() -> None:
    state = conditionally_passed("DPA signed")

    refused = refusal(state, meet(state.conditions[0].condition_id, by=GRACE))

    assert refused.rule == "condition.not_product_owner"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "product owner (Ada Lovelace)" in refused.message


def test_conditions_still_unmet_at_a_later_conditional_go_are_carried_over_again() -> None:
    # A Conditional Go on the gate the conditions were due at must not let them lapse.
    pb = playbook(discovery=INTERVIEWS)
    state = given(register(pb), evidence("interview"), evidence("interview"))
    state = then(state, conditional_go("DPA signed"))
    assert state.stage is Stage.PLANNING

    [decided, _] = when(state, conditional_go("pricing agreed"))
    state = then(state, conditional_go("pricing agreed"))

    assert isinstance(decided, GateDecided)
    assert [c.text for c in decided.conditions] == [
        "pricing agreed",
        "carried over from gate 'planning': DPA signed: "
        "condition of the Conditional Go at gate 'discovery' not met yet",
    ]
    assert state.stage is Stage.DEVELOPMENT
    refused = refusal(state, go())
    assert refused.rule == "gate.criteria_unmet"
    assert "DPA signed" in refused.message
