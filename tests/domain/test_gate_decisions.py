from domain.commands import GateOutcome
from domain.events import CriterionSnapshot, GateDecided, ProductKilled, StageEntered
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from domain.stages import LIFECYCLE_PATH, Stage
from domain.state import ProductState
from tests.domain.dsl import (
    ADA_THE_GATEKEEPER,
    EDSGER,
    GRACE,
    LINUS,
    NOW,
    PRODUCT_ID,
    approve,
    evidence,
    given,
    given_all,
    go,
    kill,
    measure,
    playbook,
    refusal,
    register,
    reopen,
    request_review,
    then,
    tick,
    types,
    when,
    without_state_hashes,
)

GATEKEEPER_AS_GATEKEEPER = ActorRef(subject="grace", display_name="Grace Hopper", role="gatekeeper")
ENGINE = ActorRef(subject="system:lifecycle", display_name="lifecycle engine", role=None)

INTERVIEWS = playbook(
    version=7,
    discovery={"evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}]},
)


def at_stage(stage: Stage) -> ProductState:
    """A product on the bare test playbook, moved by Go decisions to `stage`."""
    state = given(register(playbook()))
    while state.stage is not stage:
        state = then(state, go())
    return state


# -- Go ----------------------------------------------------------------------------------------


def test_a_go_decision_records_the_criteria_it_was_taken_on_and_enters_the_next_stage() -> None:
    state = given(register(INTERVIEWS), evidence("interview"), evidence("interview"))

    events = without_state_hashes(when(state, go(reason="strong signal")))

    assert events == [
        GateDecided(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER_AS_GATEKEEPER,
            gate=Stage.DISCOVERY,
            outcome=GateOutcome.GO,
            reason="strong signal",
            automatic=False,
            playbook_version=7,
            criteria=(
                CriterionSnapshot(
                    kind="evidence",
                    key="interview",
                    passed=True,
                    reason="2 of 2 customer interviews logged",
                ),
            ),
        ),
        StageEntered(
            event_id="id-2",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER_AS_GATEKEEPER,
            stage=Stage.PLANNING,
            previous_stage=Stage.DISCOVERY,
        ),
    ]


def test_after_go_the_product_works_toward_the_gate_of_its_new_stage() -> None:
    state = given(register(INTERVIEWS), evidence("interview"), evidence("interview"))

    state = then(state, go())

    assert state.stage is Stage.PLANNING
    assert [v.stage for v in state.history] == [Stage.DISCOVERY, Stage.PLANNING]
    assert state.progress is not None
    assert state.progress.gate is Stage.PLANNING
    assert state.progress.evidence == ()
    assert state.current_gate() == INTERVIEWS.exit_gate(Stage.PLANNING)


def test_the_stream_version_counts_every_event() -> None:
    state = given(register(INTERVIEWS))
    assert state.version == 1
    for command, expected in (
        (evidence("interview"), 2),
        (evidence("interview"), 3),
        (go(), 5),  # GateDecided + StageEntered
        (kill(), 7),  # GateDecided + ProductKilled
    ):
        state = then(state, command)
        assert state.version == expected


def test_go_is_refused_while_criteria_are_unmet_and_the_refusal_lists_them() -> None:
    pb = playbook(
        discovery={
            "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 5}],
            "checklist": [{"key": "personas", "title": "Personas drafted", "owner_role": "pm"}],
            "metrics": [{"metric": "nps", "comparison": ">=", "threshold": 30}],
        }
    )
    state = given(register(pb), evidence("interview"), evidence("interview"), tick("personas"))

    refused = refusal(state, go())

    assert refused.rule == "gate.criteria_unmet"
    assert refused.kind is RefusalKind.CONFLICT
    assert "gate 'discovery'" in refused.message
    assert "2 criteria unmet" in refused.message
    assert "customer interviews: 2 of 5 customer interviews logged" in refused.message
    assert "net promoter score: net promoter score not recorded yet; needs >= 30" in (
        refused.message
    )
    assert "Personas" not in refused.message


def test_go_is_refused_until_the_sign_offs_are_in() -> None:
    pb = playbook(discovery={"sign_offs": [{"role": "legal"}]})
    state = given(register(pb), request_review())

    refused = refusal(state, go())

    assert refused.rule == "gate.criteria_unmet"
    assert "sign-off by legal: 0 of 1 approvals from legal (round 1)" in refused.message
    assert types(when(then(state, approve(LINUS, "legal")), go())) == [
        "GateDecided",
        "StageEntered",
    ]


def test_a_decision_by_someone_without_a_decider_role_is_refused() -> None:
    pb = playbook(discovery={"decider_roles": ["gatekeeper", "finance"]})
    state = given(register(pb))

    refused = refusal(state, go(by=LINUS))

    assert refused.rule == "decision.role_not_held"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "gate 'discovery'" in refused.message
    assert "'gatekeeper' or 'finance'" in refused.message
    assert "Linus Legal" in refused.message


def test_the_decision_is_attributed_to_the_decider_role_the_actor_holds() -> None:
    pb = playbook(discovery={"decider_roles": ["gatekeeper", "finance"]})
    state = given(register(pb))

    events = when(state, go(by=EDSGER))

    assert {event.actor.role for event in events} == {"finance"}


def test_a_decision_without_a_reason_is_refused() -> None:
    state = given(register(playbook()))

    for decision in (go(reason=""), kill(reason="  ")):
        refused = refusal(state, decision)

        assert refused.rule == "decision.reason_required"
        assert refused.kind is RefusalKind.INVALID
        assert "gate 'discovery'" in refused.message
        assert decision.outcome.value in refused.message


def test_the_last_gate_leads_to_retired_where_the_product_rests() -> None:
    state = at_stage(Stage.SUNSET)

    events = when(state, go(reason="all customers migrated"))
    state = then(state, go())

    assert types(events) == ["GateDecided", "StageEntered"]
    entered = events[1]
    assert isinstance(entered, StageEntered)
    assert (entered.previous_stage, entered.stage) == (Stage.SUNSET, Stage.RETIRED)
    assert state.stage is Stage.RETIRED
    assert state.is_terminal
    assert state.progress is None
    assert state.current_gate() is None
    assert [v.stage for v in state.history] == list(LIFECYCLE_PATH)


# -- Kill --------------------------------------------------------------------------------------


def test_a_kill_decision_ends_the_product_whatever_the_criteria_say() -> None:
    state = given(register(INTERVIEWS), evidence("interview"))

    events = without_state_hashes(when(state, kill(reason="no market")))

    assert events == [
        GateDecided(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER_AS_GATEKEEPER,
            gate=Stage.DISCOVERY,
            outcome=GateOutcome.KILL,
            reason="no market",
            automatic=False,
            playbook_version=7,
            criteria=(
                CriterionSnapshot(
                    kind="evidence",
                    key="interview",
                    passed=False,
                    reason="1 of 2 customer interviews logged",
                ),
            ),
        ),
        ProductKilled(
            event_id="id-2",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=GATEKEEPER_AS_GATEKEEPER,
            stage=Stage.DISCOVERY,
            reason="no market",
        ),
    ]


def test_a_killed_product_is_terminal_and_remembers_why() -> None:
    state = at_stage(Stage.GROWTH)

    state = then(state, kill(reason="burning cash"))

    assert state.stage is Stage.KILLED
    assert state.is_terminal
    assert state.killed_reason == "burning cash"
    assert state.progress is None
    assert state.current_gate() is None
    assert [v.stage for v in state.history][-2:] == [Stage.GROWTH, Stage.KILLED]


def test_a_closed_product_refuses_every_further_command() -> None:
    retired = then(at_stage(Stage.SUNSET), go())
    killed = then(at_stage(Stage.DISCOVERY), kill())

    for state, word in ((retired, "retired"), (killed, "killed")):
        for command in (
            evidence("interview"),
            tick("personas"),
            reopen("personas"),
            measure("nps", 40),
            request_review(),
            approve(LINUS, "legal"),
            go(),
            kill(),
        ):
            refused = refusal(state, command)
            assert refused.rule == "product.closed", (word, command)
            assert refused.kind is RefusalKind.CONFLICT
            assert f"product '{PRODUCT_ID}' is {word}" in refused.message


# -- automatic advance -------------------------------------------------------------------------


def test_an_auto_advance_gate_passes_by_itself_once_its_last_criterion_holds() -> None:
    pb = playbook(
        version=2,
        growth={
            "auto_advance": True,
            "metrics": [{"metric": "activation", "comparison": ">=", "threshold": 40}],
        },
    )
    state = given_all([go()] * 4, given(register(pb)))
    assert state.stage is Stage.GROWTH

    events = when(state, measure("activation", 45))

    assert types(events) == ["MetricRecorded", "GateDecided", "StageEntered"]
    decided, entered = events[1], events[2]
    assert isinstance(decided, GateDecided)
    assert decided.automatic is True
    assert decided.outcome is GateOutcome.GO
    assert decided.gate is Stage.GROWTH
    assert decided.actor == ENGINE
    assert decided.playbook_version == 2
    assert decided.criteria == (
        CriterionSnapshot(
            kind="metric",
            key="activation",
            passed=True,
            reason="activation rate is 45 %, needs >= 40 %",
        ),
    )
    assert isinstance(entered, StageEntered)
    assert (entered.previous_stage, entered.stage, entered.actor) == (
        Stage.GROWTH,
        Stage.MATURITY,
        ENGINE,
    )
    assert [e.event_id for e in events] == ["id-1", "id-2", "id-3"]


def test_an_auto_advance_gate_waits_while_a_criterion_is_unmet() -> None:
    pb = playbook(
        discovery={
            "auto_advance": True,
            "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}],
        }
    )
    state = given(register(pb))

    assert types(when(state, evidence("interview"))) == ["EvidenceSubmitted"]


def test_auto_advance_carries_a_product_through_a_chain_of_satisfied_gates() -> None:
    # Metrics persist across stages, so planning and development are already satisfied the
    # moment discovery passes; launch is auto too but still misses its checklist item.
    activation = [{"metric": "activation", "comparison": ">=", "threshold": 40}]
    pb = playbook(
        discovery={"auto_advance": True, "evidence": [{"key": "interview", "title": "interviews"}]},
        planning={"auto_advance": True, "metrics": activation},
        development={"auto_advance": True, "metrics": activation},
        launch={
            "auto_advance": True,
            "checklist": [{"key": "pricing", "title": "Pricing", "owner_role": "finance"}],
        },
    )
    state = given(register(pb), measure("activation", 50))
    assert state.stage is Stage.DISCOVERY

    events = when(state, evidence("interview"))
    state = then(state, evidence("interview"))

    assert types(events) == ["EvidenceSubmitted"] + ["GateDecided", "StageEntered"] * 3
    assert [e.stage for e in events if isinstance(e, StageEntered)] == [
        Stage.PLANNING,
        Stage.DEVELOPMENT,
        Stage.LAUNCH,
    ]
    assert all(e.automatic for e in events if isinstance(e, GateDecided))
    assert len({e.event_id for e in events}) == len(events)
    assert state.stage is Stage.LAUNCH
    assert state.version == 2 + len(events)


def test_a_gate_without_auto_advance_never_passes_by_itself() -> None:
    pb = playbook(
        discovery={"evidence": [{"key": "interview", "title": "interviews"}]},
    )
    state = given(register(pb))

    events = when(state, evidence("interview"))

    assert types(events) == ["EvidenceSubmitted"]
    assert then(state, evidence("interview")).stage is Stage.DISCOVERY


def test_an_auto_advance_chain_stops_at_a_gate_without_auto_advance() -> None:
    pb = playbook(
        discovery={"auto_advance": True, "evidence": [{"key": "interview", "title": "interviews"}]},
        # planning has no criteria at all, but a person must still decide it
    )
    state = given(register(pb))

    state = then(state, evidence("interview"))

    assert state.stage is Stage.PLANNING


def test_an_auto_advance_gate_with_sign_offs_passes_on_the_last_approval() -> None:
    pb = playbook(discovery={"auto_advance": True, "sign_offs": [{"role": "legal"}]})
    state = given(register(pb), request_review())

    events = when(state, approve(LINUS, "legal"))

    assert types(events) == ["SignOffGiven", "GateDecided", "StageEntered"]


def test_an_auto_advance_gate_that_holds_at_registration_passes_at_registration() -> None:
    pb = playbook(discovery={"auto_advance": True})

    events = when(ProductState(), register(pb))

    assert types(events) == ["ProductRegistered", "GateDecided", "StageEntered"]
    assert then(ProductState(), register(pb)).stage is Stage.PLANNING


def test_a_kill_stops_the_product_even_when_the_next_gate_would_pass_by_itself() -> None:
    pb = playbook(planning={"auto_advance": True})
    state = given(register(pb))

    assert types(when(state, kill())) == ["GateDecided", "ProductKilled"]


def test_the_owner_who_holds_a_decider_role_may_decide() -> None:
    state = given(register(playbook(), owner=ADA_THE_GATEKEEPER))

    assert types(when(state, go(by=ADA_THE_GATEKEEPER))) == ["GateDecided", "StageEntered"]


def test_a_reopened_item_blocks_go_again() -> None:
    pb = playbook(
        discovery={"checklist": [{"key": "pricing", "title": "Pricing", "owner_role": "finance"}]}
    )
    state = given(register(pb), tick("pricing", by=EDSGER), reopen("pricing", by=EDSGER))

    refused = refusal(state, go(by=GRACE))

    assert refused.rule == "gate.criteria_unmet"
    assert "Pricing: not done yet (owner role: finance)" in refused.message
