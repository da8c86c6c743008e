"""Playbooks and shortcuts shared by the gate-decision tests (Conditional Go; Kill, Hold and
Resume, Recycle)."""

from typing import Any

from domain.gate_evaluation import CriterionResult, evaluate_current_gate
from domain.identity import ActorRef
from domain.stages import Stage
from domain.state import GateCondition, ProductState
from tests.domain.dsl import conditional_go, evidence, given, go, playbook, register, then

GATEKEEPER = ActorRef(subject="grace", display_name="Grace Hopper", role="gatekeeper")
INTERVIEWS: dict[str, Any] = {
    "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}]
}
# Discovery asks for two interviews; planning needs legal's sign-off.
PB = playbook(version=5, discovery=INTERVIEWS, planning={"sign_offs": [{"role": "legal"}]})
# Discovery asks for legal's sign-off and an activation rate (metrics may drift mid-review).
SIGNED = playbook(
    discovery={
        "sign_offs": [{"role": "legal"}],
        "metrics": [{"metric": "activation", "comparison": ">=", "threshold": 40}],
    }
)


def at_stage(stage: Stage, pb: Any = None) -> ProductState:
    """A product on `pb` (the bare test playbook by default), moved by Go decisions to `stage`."""
    state = given(register(pb or playbook()))
    while state.stage is not stage:
        state = then(state, go())
    return state


def criteria(state: ProductState) -> list[CriterionResult]:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    return list(evaluation.criteria)


def conditions_of(state: ProductState) -> list[GateCondition]:
    return list(state.conditions)


def conditionally_passed(*conditions: str) -> ProductState:
    """Discovery passed with one interview short and the stated conditions; now in planning."""
    return given(register(PB), evidence("interview"), conditional_go(*conditions))
