"""The playbook: product-ops' rules for every gate, as validated data.

A playbook is pinned to a product when it registers (name, version and content hash are recorded),
so a later edit of the file never changes the rules a product is already being judged by.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from domain.identity import Key, RoleName, Title
from domain.playbook_sections import (
    GoToMarket,
    GrowthPolicy,
    MetricTrend,
    SunsetPolicy,
    section_problems,
)
from domain.stages import LIFECYCLE_PATH, Stage
from domain.thresholds import Comparison, MetricThreshold

__all__ = ["Comparison", "MetricThreshold"]

Location = tuple[int | str, ...]
_INCONSISTENT = "playbook_inconsistent"


def _inconsistent(problems: list[tuple[Location, str]]) -> PydanticCustomError:
    """A validation error that keeps where each problem sits, relative to the model raising it,
    so `parse_playbook` can point at the exact place in the file."""
    summary = "; ".join(f"{'.'.join(map(str, loc))}: {problem}" for loc, problem in problems)
    return PydanticCustomError(
        _INCONSISTENT, "{summary}", {"summary": summary, "problems": problems}
    )


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


class SignOffRequirement(_Frozen):
    """N of M: at least `min_approvals` distinct people in `role` approve. An optional role's
    approvals are not needed, but its rejection blocks the gate all the same."""

    role: RoleName
    min_approvals: Annotated[int, Field(ge=1, le=50)] = 1
    optional: bool = False


TimeoutOutcome = Literal["escalate", "auto_reject", "hold"]
AutoDecision = Literal["none", "when_criteria_hold", "when_unanimous"]


class ReviewPolicy(_Frozen):
    """Deadlines and segregation of duties for a gate's reviews.

    `sla` and `remind_every` are ISO 8601 durations ("P10D", "P2D"). At the deadline the review
    is escalated to `escalate_to` (if set) and `on_timeout` applies: `escalate` only records the
    escalation, `auto_reject` rejects the round, `hold` puts the product on hold."""

    sla: timedelta | None = None
    remind_every: timedelta | None = None
    escalate_to: RoleName | None = None
    on_timeout: TimeoutOutcome = "escalate"
    owner_may_sign: bool = True

    @model_validator(mode="after")
    def _durations_make_sense(self) -> "ReviewPolicy":
        for name, value in (("sla", self.sla), ("remind_every", self.remind_every)):
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration")
        if self.remind_every is not None and self.sla is None:
            raise ValueError("remind_every needs an sla to remind about")
        return self


class Gate(_Frozen):
    """What must hold before a product may leave the stage this gate closes.

    Gates are named after the stage they close ("the launch gate" is passed when the product is
    launched and moves on to growth), as Stage-Gate teams say it."""

    title: Title
    checklist: tuple[ChecklistItem, ...] = ()
    evidence: tuple[EvidenceRequirement, ...] = ()
    metrics: tuple[MetricThreshold, ...] = ()
    metric_trends: tuple[MetricTrend, ...] = ()
    sign_offs: tuple[SignOffRequirement, ...] = ()
    decider_roles: tuple[RoleName, ...] = Field(min_length=1)
    review: ReviewPolicy = ReviewPolicy()
    # Automatic decisions, applied in this order after every accepted command and never while
    # the product is on hold: `when_criteria_hold` passes the gate the moment every criterion
    # holds; `when_unanimous` also needs every optional role to have approved and no other
    # verdict in the round. `auto_advance: true` is the older spelling of `when_criteria_hold`.
    auto_decision: AutoDecision = "none"
    auto_advance: bool = False

    @property
    def automatic(self) -> AutoDecision:
        return "when_criteria_hold" if self.auto_advance else self.auto_decision

    @model_validator(mode="after")
    def _keys_are_unique(self) -> "Gate":
        problems: list[tuple[Location, str]] = []
        for kind, keys in (
            ("checklist", [item.key for item in self.checklist]),
            ("evidence", [item.key for item in self.evidence]),
            ("metrics", [item.metric for item in self.metrics]),
            ("sign_offs", [item.role for item in self.sign_offs]),
        ):
            for index, key in enumerate(keys):
                if key in keys[:index]:
                    problems.append(((kind, index), f"'{key}' is listed more than once in {kind}"))
        if problems:
            raise _inconsistent(problems)
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
    go_to_market: GoToMarket | None = None
    growth: GrowthPolicy | None = None
    sunset: SunsetPolicy | None = None

    @model_validator(mode="after")
    def _is_consistent(self) -> "Playbook":
        listed = tuple(definition.stage for definition in self.stages)
        if listed != LIFECYCLE_PATH:
            expected = ", ".join(stage.value for stage in LIFECYCLE_PATH)
            found = ", ".join(stage.value for stage in listed) or "none"
            problem = f"must be exactly, in order: {expected}; found: {found}"
            missing = [stage.value for stage in LIFECYCLE_PATH if stage not in listed]
            if missing:
                problem += f" (missing: {', '.join(missing)})"
            raise _inconsistent([(("stages",), problem)])
        roles = {role.key for role in self.roles}
        metrics = {metric.key for metric in self.metrics}
        problems: list[tuple[Location, str]] = []

        def undeclared_role(role: str, at: Location) -> None:
            if role not in roles:
                declared = ", ".join(r.key for r in self.roles)
                problems.append((at, f"role '{role}' is not declared under roles ({declared})"))

        for index, definition in enumerate(self.stages):
            gate, where = definition.exit_gate, ("stages", index, "exit_gate")
            if definition is self.stages[-1]:
                if gate is not None:
                    problems.append(
                        (where, f"stage '{definition.stage}' is where products end; no exit_gate")
                    )
                continue
            if gate is None:
                problems.append((where, f"stage '{definition.stage}' needs an exit_gate"))
                continue
            for n, item in enumerate(gate.checklist):
                undeclared_role(item.owner_role, (*where, "checklist", n, "owner_role"))
            for n, sign_off in enumerate(gate.sign_offs):
                undeclared_role(sign_off.role, (*where, "sign_offs", n, "role"))
            for n, role in enumerate(gate.decider_roles):
                undeclared_role(role, (*where, "decider_roles", n))
            if gate.review.escalate_to is not None:
                undeclared_role(gate.review.escalate_to, (*where, "review", "escalate_to"))
            trends = [
                (("metric_trends", n, "metric"), t.metric) for n, t in enumerate(gate.metric_trends)
            ]
            for n, threshold in enumerate(gate.metrics):
                trends.append((("metrics", n, "metric"), threshold.metric))
            for at, metric in trends:
                if metric not in metrics:
                    declared = ", ".join(m.key for m in self.metrics) or "none"
                    problems.append(
                        (
                            (*where, *at),
                            f"metric '{metric}' is not declared under metrics ({declared})",
                        )
                    )
        launch_gate = self.exit_gate(Stage.LAUNCH)
        problems.extend(
            section_problems(
                self.go_to_market,
                self.growth,
                self.sunset,
                launch_checklist={i.key for i in launch_gate.checklist} if launch_gate else set(),
                roles=roles,
                metrics=metrics,
            )
        )
        if problems:
            raise _inconsistent(problems)
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
            _without_absent_sections(self.model_dump(mode="json")),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_absent_sections(document: dict[str, Any]) -> dict[str, Any]:
    """Sections added after playbooks were first pinned are left out while unused, so a playbook
    that does not use them keeps the fingerprint it was registered under."""
    trimmed = {k: v for k, v in document.items() if k not in _SECTIONS or v is not None}
    for stage in trimmed["stages"]:
        gate = stage.get("exit_gate")
        if gate is not None and not gate.get("metric_trends"):
            gate.pop("metric_trends", None)
    return trimmed


_SECTIONS = ("go_to_market", "growth", "sunset")


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
            if detail["type"] == _INCONSISTENT:
                for location, problem in detail.get("ctx", {})["problems"]:
                    path = _readable_path(document, (*detail["loc"], *location))
                    problems.append(f"{path}: {problem}")
            else:
                path = _readable_path(document, detail["loc"])
                problems.append(f"{path}: {detail['msg']}")
        raise PlaybookInvalid(source, problems) from None


def _readable_path(document: Mapping[str, Any], location: tuple[int | str, ...]) -> str:
    """Turns ('stages', 3, 'exit_gate', 'checklist', 0, 'owner_role') into
    stages[3](launch).exit_gate.checklist[0](positioning).owner_role, so a product-ops lead
    finds the line."""
    parts: list[str] = []
    node: Any = document
    for step in location:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, Mapping):
                    name = (
                        node.get("stage")
                        or node.get("key")
                        or node.get("role")
                        or node.get("metric")
                        or node.get("item")
                    )
                    if isinstance(name, str):
                        label += f"({name})"
            parts.append(label)
        else:
            node = node.get(step) if isinstance(node, Mapping) else None
            parts.append(("." if parts else "") + step)
    return "".join(parts) or "(top level)"
