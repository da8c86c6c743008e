"""A product walks the whole default playbook, driven only by the shared journey builders."""

from domain.commands import Command, SubmitEvidence
from domain.decide import decide
from domain.events import GateDecided, ProductKilled, StageEntered
from domain.evolve import evolve_all
from domain.gate_evaluation import evaluate_current_gate
from domain.stages import LIFECYCLE_PATH, Stage
from domain.state import ProductState
from playbooks import load_default_playbook
from tests.domain.dsl import NOW, Ids
from tests.support.journey import (
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    register,
)


def test_a_product_walks_the_default_playbook_from_discovery_to_retired() -> None:
    playbook = load_default_playbook()
    ids = Ids()
    state = ProductState()
    trail = []

    def run(command: Command) -> None:
        nonlocal state
        events = decide(state, command, NOW, ids)
        trail.extend(events)
        state = evolve_all(state, events)

    run(register("journey", playbook))
    gates_passed = 0
    while not state.is_terminal:
        assert gates_passed < len(LIFECYCLE_PATH), "the journey does not terminate"
        for command in commands_to_meet_criteria(state):
            run(command)
        for command in commands_to_sign_and_pass(state):
            run(command)
        gates_passed += 1

    entered = [e.stage for e in trail if isinstance(e, StageEntered)]
    assert [Stage.DISCOVERY, *entered] == list(LIFECYCLE_PATH)
    assert [v.stage for v in state.history] == list(LIFECYCLE_PATH)
    assert state.stage is Stage.RETIRED
    assert state.version == len(trail)
    assert evaluate_current_gate(state) is None
    decisions = [e for e in trail if isinstance(e, GateDecided)]
    assert [d.gate for d in decisions] == list(LIFECYCLE_PATH[:-1])
    assert all(d.playbook_version == playbook.version for d in decisions)
    assert all(all(c.passed for c in d.criteria) for d in decisions)
    assert not any(isinstance(e, ProductKilled) for e in trail)
    assert len({e.event_id for e in trail}) == len(trail)


def test_the_default_discovery_gate_reads_as_a_product_manager_would_say_it() -> None:
    playbook = load_default_playbook()
    state = evolve_all(ProductState(), decide(ProductState(), register("p", playbook), NOW, Ids()))
    interviews = [c for c in commands_to_meet_criteria(state) if isinstance(c, SubmitEvidence)][1:4]
    for command in interviews:
        state = evolve_all(state, decide(state, command, NOW, Ids()))

    evaluation = evaluate_current_gate(state)

    assert evaluation is not None
    reasons = {c.key: c.reason for c in evaluation.criteria}
    assert reasons["customer-interview"] == "3 of 5 customer interviews logged"
    assert reasons["personas-drafted"] == "not done yet (owner role: product-manager)"
    assert reasons["product-lead"] == (
        "no gate review requested yet; needs 1 approval(s) from product-lead"
    )
