"""What moving a product to another playbook version would change at its current gate.

Shown to people before a migration is applied (the dry run) and recorded in the migration's
event, so the trail says which criteria the product was judged by before and after.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.gate_evaluation import CriterionResult, evaluate_current_gate
from domain.playbook import Playbook
from domain.state import ProductState


class CriterionChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    change: Literal["added", "removed", "changed"]
    before: str | None = None  # the criterion's reason under the playbook in force
    after: str | None = None  # and under the new one
    passed_before: bool | None = None
    passed_after: bool | None = None


def criteria_changes(state: ProductState, playbook: Playbook) -> tuple[CriterionChange, ...]:
    """Criteria of the current gate that appear, disappear or read differently under
    `playbook`; empty when the gate would be judged exactly as now."""
    before = _criteria(state)
    after = _criteria(state.model_copy(update={"playbook": playbook}))
    changes: list[CriterionChange] = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            changes.append(
                CriterionChange(
                    key=key,
                    title=old.title,
                    change="removed",
                    before=old.reason,
                    passed_before=old.passed,
                )
            )
        elif (old.title, old.reason, old.passed) != (new.title, new.reason, new.passed):
            changes.append(
                CriterionChange(
                    key=key,
                    title=new.title,
                    change="changed",
                    before=old.reason,
                    after=new.reason,
                    passed_before=old.passed,
                    passed_after=new.passed,
                )
            )
    for key, new in after.items():
        if key not in before:
            changes.append(
                CriterionChange(
                    key=key,
                    title=new.title,
                    change="added",
                    after=new.reason,
                    passed_after=new.passed,
                )
            )
    return tuple(changes)


def _criteria(state: ProductState) -> dict[str, CriterionResult]:
    evaluation = evaluate_current_gate(state)
    if evaluation is None:
        return {}
    return {f"{c.kind.value}:{c.key}": c for c in evaluation.criteria}
