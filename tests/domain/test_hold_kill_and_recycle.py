"""Kill, Hold and Resume, Recycle, and outcome options given to the wrong outcome."""

from typing import Any

from domain.commands import DecideGate, GateOutcome
from domain.events import (
    CriterionSnapshot,
    GateDecided,
    GateReviewVoided,
    ProductKilled,
    StageEntered,
)
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.domain.decisions import (
    GATEKEEPER,
    PB,
    at_stage,
)
from tests.domain.dsl import (
    EDSGER,
    GRACE,
    LINUS,
    NOW,
    PRODUCT_ID,
    approve,
    conditional_go,
    evidence,
    given,
    go,
    hold,
    kill,
    meet,
    playbook,
    recycle,
    refusal,
    register,
    reject,
    reopen,
    request_review,
    resume,
    revoke,
    then,
    tick,
    types,
    when,
    without_state_hashes,
)

# -- Kill --------------------------------------------------------------------------------------


def test_a_product_on_hold_may_still_be_killed() -> None:
    state = given(register(PB), hold())

    events = when(state, kill(reason="market gone"))
    state = then(state, kill(reason="market gone"))

    assert types(events) == ["GateDecided", "ProductKilled"]
    assert isinstance(events[1], ProductKilled)
    assert state.stage is Stage.KILLED
    assert state.killed_reason == "market gone"


# -- Hold and Resume ---------------------------------------------------------------------------


def test_a_hold_is_recorded_and_freezes_the_product() -> None:
    state = given(register(PB), evidence("interview"))

    [event] = without_state_hashes(when(state, hold(reason="budget freeze")))
    state = then(state, hold(reason="budget freeze"))

    assert event == GateDecided(
        event_id="id-1",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=GATEKEEPER,
        gate=Stage.DISCOVERY,
        outcome=GateOutcome.HOLD,
        reason="budget freeze",
        automatic=False,
        playbook_version=5,
        criteria=(
            CriterionSnapshot(
                kind="evidence",
                key="interview",
                passed=False,
                reason="1 of 2 customer interviews logged",
            ),
        ),
    )
    assert (state.on_hold, state.hold_reason) == (True, "budget freeze")
    assert state.stage is Stage.DISCOVERY


def test_while_on_hold_every_command_but_resume_and_kill_is_refused() -> None:
    pb = playbook(
        discovery={
            "sign_offs": [{"role": "legal"}, {"role": "finance"}],
            "checklist": [{"key": "personas", "title": "Personas", "owner_role": "pm"}],
            "evidence": [{"key": "interview", "title": "customer interviews"}],
        }
    )
    state = given(
        register(pb),
        tick("personas"),
        evidence("interview"),
        request_review(),
        approve(LINUS, "legal"),
        hold(reason="budget freeze"),
    )
    commands: list[Any] = [
        evidence("interview"),
        tick("personas"),
        reopen("personas"),
        request_review(),
        approve(EDSGER, "finance"),
        revoke(LINUS),
        go(),
        conditional_go("anything"),
        hold(),
        recycle(Stage.DISCOVERY),
        meet("any-condition"),
    ]

    for command in commands:
        refused = refusal(state, command)

        assert refused.rule == "product.on_hold", command
        assert refused.kind is RefusalKind.CONFLICT
        assert f"product '{PRODUCT_ID}' is on hold (budget freeze)" in refused.message
        assert "resume it before" in refused.message


def test_a_refusal_on_hold_says_what_was_being_attempted() -> None:
    state = given(register(PB), hold())

    assert "before submitting evidence" in refusal(state, evidence("interview")).message
    assert "before a go decision" in refusal(state, go()).message
    assert "before a recycle decision" in refusal(state, recycle(Stage.DISCOVERY)).message


def test_resume_lifts_the_hold_and_work_continues() -> None:
    state = given(register(PB), evidence("interview"), hold())

    [event] = when(state, resume(reason="budget is back"))
    state = then(state, resume(reason="budget is back"))

    assert isinstance(event, GateDecided)
    assert (event.outcome, event.reason, event.actor) == (
        GateOutcome.RESUME,
        "budget is back",
        GATEKEEPER,
    )
    assert (state.on_hold, state.hold_reason) == (False, "")
    assert types(when(state, evidence("interview"))) == ["EvidenceSubmitted"]


def test_a_hold_keeps_the_open_review_and_its_sign_offs() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}, {"role": "finance"}]})
    state = given(register(pb), request_review(), approve(LINUS, "legal"), hold(), resume())

    assert state.progress is not None
    assert state.progress.review is not None
    assert [s.voter for s in state.progress.review.sign_offs] == ["linus"]
    assert types(when(state, approve(EDSGER, "finance"))) == ["SignOffGiven"]


def test_resume_is_refused_when_the_product_is_not_on_hold() -> None:
    refused = refusal(given(register(PB)), resume())

    assert refused.rule == "decision.not_on_hold"
    assert refused.kind is RefusalKind.CONFLICT
    assert f"product '{PRODUCT_ID}' is not on hold" in refused.message


def test_hold_and_resume_need_a_decider_role_and_a_reason() -> None:
    on_hold = given(register(PB), hold())

    for state, decision in (
        (given(register(PB)), hold(by=LINUS)),
        (on_hold, resume(by=LINUS)),
    ):
        refused = refusal(state, decision)
        assert refused.rule == "decision.role_not_held"
        assert "Linus Legal" in refused.message
    for state, decision in ((given(register(PB)), hold(reason="")), (on_hold, resume(reason=""))):
        refused = refusal(state, decision)
        assert refused.rule == "decision.reason_required"
        assert decision.outcome.value in refused.message


# -- Recycle -----------------------------------------------------------------------------------


def test_recycling_to_an_earlier_stage_records_the_target_and_reenters_it() -> None:
    state = at_stage(Stage.DEVELOPMENT)

    events = without_state_hashes(when(state, recycle(Stage.DISCOVERY, reason="wrong market")))
    state = then(state, recycle(Stage.DISCOVERY))

    assert types(events) == ["GateDecided", "StageEntered"]
    decided, entered = events
    assert isinstance(decided, GateDecided)
    assert (decided.outcome, decided.gate, decided.recycle_to, decided.reason) == (
        GateOutcome.RECYCLE,
        Stage.DEVELOPMENT,
        Stage.DISCOVERY,
        "wrong market",
    )
    assert isinstance(entered, StageEntered)
    assert (entered.previous_stage, entered.stage) == (Stage.DEVELOPMENT, Stage.DISCOVERY)
    assert state.stage is Stage.DISCOVERY
    assert [v.stage for v in state.history][-2:] == [Stage.DEVELOPMENT, Stage.DISCOVERY]


def test_a_recycled_product_starts_the_gate_afresh() -> None:
    state = given(register(PB), evidence("interview"))

    state = then(state, recycle(Stage.DISCOVERY))

    assert state.stage is Stage.DISCOVERY
    assert state.progress is not None
    assert state.progress.evidence == ()
    assert state.progress.review is None
    assert state.progress.closed_reviews == ()


def test_recycling_closes_the_open_review_first() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}, {"role": "finance"}]})
    state = given(register(pb), request_review(), approve(LINUS, "legal"))

    events = when(state, recycle(Stage.DISCOVERY))
    state = then(state, recycle(Stage.DISCOVERY))

    assert types(events) == ["GateReviewVoided", "GateDecided", "StageEntered"]
    voided = events[0]
    assert isinstance(voided, GateReviewVoided)
    assert (voided.round, voided.reason) == (1, "recycled to discovery")
    assert state.progress is not None
    assert state.progress.review is None
    refused = refusal(state, approve(EDSGER, "finance"))
    assert refused.rule == "signoff.no_open_review"


def test_recycling_does_not_void_a_rejected_round_again() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}]})
    state = given(register(pb), request_review(), reject(LINUS, "legal", "no DPA"))

    assert types(when(state, recycle(Stage.DISCOVERY))) == ["GateDecided", "StageEntered"]


def test_recycling_to_a_later_stage_or_to_none_is_refused() -> None:
    state = at_stage(Stage.PLANNING)

    for target in (Stage.DEVELOPMENT, Stage.RETIRED, Stage.KILLED, None):
        refused = refusal(state, recycle(target))

        assert refused.rule == "decision.recycle_target", target
        assert refused.kind is RefusalKind.INVALID
        assert "at or before 'planning'" in refused.message
        assert "one of discovery, planning" in refused.message


def test_a_persons_recycle_is_not_overridden_by_an_automatic_pass() -> None:
    # Discovery has nothing to gather and passes by itself; a person sends the product back.
    pb = playbook(discovery={"auto_decision": "when_criteria_hold"})
    state = given(register(pb))
    assert state.stage is Stage.PLANNING

    events = when(state, recycle(Stage.DISCOVERY))
    state = then(state, recycle(Stage.DISCOVERY))

    assert types(events) == ["GateDecided", "StageEntered"]
    assert state.stage is Stage.DISCOVERY


def test_conditions_or_a_target_stage_on_the_wrong_outcome_are_refused() -> None:
    state = given(register(playbook()))

    with_conditions = refusal(
        state,
        DecideGate(actor=GRACE, outcome=GateOutcome.GO, reason="go", conditions=("Sign the DPA",)),
    )
    with_target = refusal(
        state,
        DecideGate(
            actor=GRACE, outcome=GateOutcome.HOLD, reason="wait", recycle_to=Stage.DISCOVERY
        ),
    )

    assert (with_conditions.rule, with_conditions.kind) == (
        "decision.conditions_only_for_conditional_go",
        RefusalKind.INVALID,
    )
    assert "go decision" in with_conditions.message
    assert (with_target.rule, with_target.kind) == (
        "decision.recycle_to_only_for_recycle",
        RefusalKind.INVALID,
    )
    assert "hold decision" in with_target.message
