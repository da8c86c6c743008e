"""The playbook: product-ops' rules for every gate, as validated data.

A playbook is pinned to a product when it registers (name, version and content hash are recorded),
so a later edit of the file never changes the rules a product is already being judged by.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.identity import Key, RoleName, Title
from domain.stages import LIFECYCLE_PATH, Stage

Comparison = Literal[">=", ">", "<=", "<"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleDefinition(_Frozen):
    key: RoleName
    title: Title


class MetricDefinition(_Frozen):
    key: Key
    title: Title
    unit: str = Field(default="", max_length=32)


class ChecklistItem(_Frozen):
    key: Key
    title: Title
    owner_role: RoleName


class EvidenceRequirement(_Frozen):
    key: Key
    title: Title  # a plural noun phrase: "customer interviews"
    min_count: Annotated[int, Field(ge=1, le=1000)] = 1
    description: str = Field(default="", max_length=2000)


class MetricThreshold(_Frozen):
    metric: Key
    comparison: Comparison
    threshold: float = Field(allow_inf_nan=False)

    def holds_for(self, value: float) -> bool:
        match self.comparison:
            case ">=":
                return value >= self.threshold
            case ">":
                return value > self.threshold
            case "<=":
                return value <= self.threshold
            case "<":
                return value < self.threshold


class SignOffRequirement(_Frozen):
    role: RoleName
    min_approvals: Annotated[int, Field(ge=1, le=50)] = 1


class Gate(_Frozen):
    """What must hold before a product may leave the stage this gate closes.

    Gates are named after the stage they close ("the launch gate" is passed when the product is
    launched and moves on to growth), as Stage-Gate teams say it."""

    title: Title
    checklist: tuple[ChecklistItem, ...] = ()
    evidence: tuple[EvidenceRequirement, ...] = ()
    metrics: tuple[MetricThreshold, ...] = ()
    sign_offs: tuple[SignOffRequirement, ...] = ()
    decider_roles: tuple[RoleName, ...] = Field(min_length=1)
    auto_advance: bool = False

    @model_validator(mode="after")
    def _keys_are_unique(self) -> "Gate":
        for kind, keys in (
            ("checklist", [item.key for item in self.checklist]),
            ("evidence", [item.key for item in self.evidence]),
            ("metrics", [item.metric for item in self.metrics]),
            ("sign_offs", [item.role for item in self.sign_offs]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"{kind} lists {', '.join(duplicates)} more than once")
        return self

    def checklist_item(self, key: str) -> ChecklistItem | None:
        return next((item for item in self.checklist if item.key == key), None)

    def evidence_requirement(self, key: str) -> EvidenceRequirement | None:
        return next((item for item in self.evidence if item.key == key), None)

    def sign_off_requirement(self, role: str) -> SignOffRequirement | None:
        return next((item for item in self.sign_offs if item.role == role), None)


class StageDefinition(_Frozen):
    stage: Stage
    title: Title
    description: str = Field(default="", max_length=4000)
    exit_gate: Gate | None = None  # the gate that closes this stage; None only for `retired`


class Playbook(_Frozen):
    name: Key
    version: Annotated[int, Field(ge=1)]
    title: Title
    description: str = Field(default="", max_length=4000)
    roles: tuple[RoleDefinition, ...] = Field(min_length=1)
    metrics: tuple[MetricDefinition, ...] = ()
    stages: tuple[StageDefinition, ...]

    @model_validator(mode="after")
    def _is_consistent(self) -> "Playbook":
        listed = tuple(definition.stage for definition in self.stages)
        if listed != LIFECYCLE_PATH:
            expected = ", ".join(stage.value for stage in LIFECYCLE_PATH)
            raise ValueError(f"stages must be exactly, in order: {expected}")
        if self.stages[-1].exit_gate is not None:
            last = self.stages[-1].stage
            raise ValueError(f"stage '{last}' is where products end; it has no exit_gate")
        roles = {role.key for role in self.roles}
        metrics = {metric.key for metric in self.metrics}
        for definition in self.stages[:-1]:
            gate = definition.exit_gate
            if gate is None:
                raise ValueError(f"stage '{definition.stage}' needs an exit_gate")
            used = [item.owner_role for item in gate.checklist]
            used += [item.role for item in gate.sign_offs] + list(gate.decider_roles)
            unknown = sorted(set(used) - roles)
            if unknown:
                raise ValueError(
                    f"gate '{definition.stage}' uses undeclared role(s): {', '.join(unknown)}"
                )
            unknown_metrics = sorted({t.metric for t in gate.metrics} - metrics)
            if unknown_metrics:
                raise ValueError(
                    f"gate '{definition.stage}' uses undeclared metric(s): "
                    f"{', '.join(unknown_metrics)}"
                )
        return self

    def exit_gate(self, stage: Stage) -> Gate | None:
        return next((d.exit_gate for d in self.stages if d.stage == stage), None)

    def stage_title(self, stage: Stage) -> str:
        return next((d.title for d in self.stages if d.stage == stage), stage.value)

    def metric(self, key: str) -> MetricDefinition | None:
        return next((m for m in self.metrics if m.key == key), None)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: two playbooks with the same rules share it."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class PlaybookInvalid(Exception):
    """Names the source, the path inside it and the problem, one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"playbook {source} is invalid:\n  " + "\n  ".join(problems))


def parse_playbook(document: Mapping[str, Any] | Any, source: str) -> Playbook:
    if not isinstance(document, Mapping):
        raise PlaybookInvalid(source, ["(top level): expected a mapping of playbook fields"])
    try:
        return Playbook.model_validate(document)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            path = _readable_path(document, detail["loc"])
            problems.append(f"{path}: {detail['msg']}")
        raise PlaybookInvalid(source, problems) from None


def _readable_path(document: Mapping[str, Any], location: tuple[int | str, ...]) -> str:
    """Turns ('stages', 3, 'gate', 'checklist', 0, 'owner_role') into
    stages[3](launch).exit_gate.checklist[0].owner_role, so a product-ops lead finds the line."""
    parts: list[str] = []
    node: Any = document
    for step in location:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, Mapping):
                    name = node.get("stage") or node.get("key") or node.get("role")
                    if isinstance(name, str):
                        label += f"({name})"
            parts.append(label)
        else:
            node = node.get(step) if isinstance(node, Mapping) else None
            parts.append(("." if parts else "") + step)
    return "".join(parts) or "(top level)"
