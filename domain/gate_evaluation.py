"""Gate evaluation: every criterion with pass/fail and a reason a person can act on."""

import hashlib
import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.plan_criteria import gtm_due_note, sunset_plan_criterion, trend_criteria
from domain.playbook import Gate, MetricThreshold, Playbook
from domain.stages import Stage, next_stage
from domain.state import GateProgress, ProductState, SignOffRecord


class CriterionKind(StrEnum):
    CHECKLIST = "checklist"
    EVIDENCE = "evidence"
    METRIC = "metric"
    CONDITION = "condition"
    SIGN_OFF = "sign_off"
    METRIC_TREND = "metric_trend"
    SUNSET_PLAN = "sunset_plan"


class CriterionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CriterionKind
    key: str
    title: str
    passed: bool
    reason: str


class GateEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    gate: Stage  # named after the stage it closes
    leads_to: Stage
    title: str
    criteria: tuple[CriterionResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)

    def unmet(self, *, ignore_sign_offs: bool = False) -> list[CriterionResult]:
        return [
            c
            for c in self.criteria
            if not c.passed and not (ignore_sign_offs and c.kind is CriterionKind.SIGN_OFF)
        ]


def evaluate_current_gate(state: ProductState) -> GateEvaluation | None:
    """The gate that closes the product's current stage; None once the product is terminal."""
    gate = state.current_gate()
    if gate is None or state.stage is None or state.progress is None:
        return None
    return evaluate_gate(state.stage, gate, state.progress, state)


def evaluate_gate(
    gate_name: Stage, gate: Gate, progress: GateProgress, state: ProductState
) -> GateEvaluation:
    assert state.playbook is not None
    criteria: list[CriterionResult] = []
    for item in gate.checklist:
        tick = progress.checklist.get(item.key)
        if tick is None:
            reason = f"not done yet (owner role: {item.owner_role})"
            reason += gtm_due_note(state, gate_name, item.key)
        else:
            reason = f"done by {tick.done_by.display_name} on {tick.done_at.date().isoformat()}"
        criteria.append(
            CriterionResult(
                kind=CriterionKind.CHECKLIST,
                key=item.key,
                title=item.title,
                passed=tick is not None,
                reason=reason,
            )
        )
    for requirement in gate.evidence:
        count = len(progress.evidence_for(requirement.key))
        criteria.append(
            CriterionResult(
                kind=CriterionKind.EVIDENCE,
                key=requirement.key,
                title=requirement.title,
                passed=count >= requirement.min_count,
                reason=f"{count} of {requirement.min_count} {requirement.title} logged",
            )
        )
    for threshold in gate.metrics:
        criteria.append(_metric_criterion(threshold, state.playbook, state))
    for key, title, passed, reason in trend_criteria(gate, state):
        criteria.append(
            CriterionResult(
                kind=CriterionKind.METRIC_TREND, key=key, title=title, passed=passed, reason=reason
            )
        )
    plan = sunset_plan_criterion(gate_name, state)
    if plan is not None:
        criteria.append(
            CriterionResult(
                kind=CriterionKind.SUNSET_PLAN,
                key="sunset-plan",
                title="sunset plan",
                passed=plan[0],
                reason=plan[1],
            )
        )
    for condition in state.conditions_due_at(gate_name):
        met = condition.met_by is not None and condition.met_at is not None
        criteria.append(
            CriterionResult(
                kind=CriterionKind.CONDITION,
                key=condition.condition_id,
                title=condition.text,
                passed=met,
                reason=(
                    f"met by {condition.met_by.display_name} on {condition.met_at.date()}"
                    if condition.met_by is not None and condition.met_at is not None
                    else f"condition of the Conditional Go at gate '{condition.imposed_at_gate}'"
                    " not met yet"
                ),
            )
        )
    criteria.extend(_sign_off_criteria(gate, progress))
    leads_to = next_stage(gate_name)
    assert leads_to is not None
    return GateEvaluation(
        gate=gate_name, leads_to=leads_to, title=gate.title, criteria=tuple(criteria)
    )


def _metric_criterion(
    threshold: MetricThreshold, playbook: Playbook, state: ProductState
) -> CriterionResult:
    definition = playbook.metric(threshold.metric)
    title = definition.title if definition else threshold.metric
    unit = f" {definition.unit}" if definition and definition.unit else ""
    wanted = f"needs {threshold.comparison} {_number(threshold.threshold)}{unit}"
    reading = state.metrics.get(threshold.metric)
    if reading is None:
        passed, reason = False, f"{title} not recorded yet; {wanted}"
    else:
        passed = threshold.holds_for(reading.value)
        reason = f"{title} is {_number(reading.value)}{unit}, {wanted}"
    return CriterionResult(
        kind=CriterionKind.METRIC, key=threshold.metric, title=title, passed=passed, reason=reason
    )


def _number(value: float) -> str:
    """Exact, without exponent or rounding: 999999.5 must not read as 1e+06 next to 1e+06."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _sign_off_criteria(gate: Gate, progress: GateProgress) -> list[CriterionResult]:
    review = progress.review
    results = []
    rejection = review.rejection() if review else None
    for requirement in gate.sign_offs:
        title = f"sign-off by {requirement.role}"
        needed = f"needs {requirement.min_approvals} approval(s) from {requirement.role}"
        if requirement.optional:
            title += " (optional)"
            needed = f"needs no approval from {requirement.role}, but a rejection blocks"
        if review is None:
            passed = requirement.optional
            reason = f"no gate review requested yet; {needed}"
        elif rejection is not None:
            passed = False
            by = rejection.signer.display_name
            if rejection.signer.role:
                by += f" ({rejection.signer.role})"
            reason = f"rejected in round {review.round} by {by}: {rejection.reason}"
        else:
            approvals = review.approvals_in(requirement.role)
            count = len(approvals)
            if requirement.optional:
                passed = True
                reason = f"optional; {count} approval(s) from {requirement.role}"
            else:
                passed = count >= requirement.min_approvals
                reason = (
                    f"{count} of {requirement.min_approvals} approvals from {requirement.role}"
                    f" (round {review.round})"
                )
            if approvals:
                reason += ": " + ", ".join(_signed_by(a) for a in approvals)
        results.append(
            CriterionResult(
                kind=CriterionKind.SIGN_OFF,
                key=requirement.role,
                title=title,
                passed=passed,
                reason=reason,
            )
        )
    return results


def _signed_by(signature: SignOffRecord) -> str:
    if signature.on_behalf_of is None:
        return signature.signer.display_name
    return f"{signature.signer.display_name} for {signature.on_behalf_of.display_name}"


def gate_state_hash(evaluation: GateEvaluation, progress: GateProgress) -> str:
    """SHA-256 of what a signature or decision refers to: every criterion's result but the
    sign-offs themselves, the exact evidence and checklist ticks, and the review round. A
    signature carries it, so it cannot be moved to other evidence without the mismatch
    showing."""
    review = progress.review
    document = {
        "gate": evaluation.gate.value,
        "round": review.round if review else 0,
        # Sign-offs are left out so every signer of a round signs the same facts.
        "criteria": [
            [c.kind.value, c.key, c.passed, c.reason]
            for c in evaluation.criteria
            if c.kind is not CriterionKind.SIGN_OFF
        ],
        "evidence": sorted(e.evidence_id for e in progress.evidence),
        "checklist": sorted(
            [key, tick.done_at.isoformat()] for key, tick in progress.checklist.items()
        ),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
