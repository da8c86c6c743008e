"""The commands that satisfy a product's current gate, for any playbook.

The demo portfolio and the tests at every layer walk products with these, so what `--demo`
shows is exactly what the tests prove works.
"""

from collections.abc import Callable

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GateOutcome,
    GiveSignOff,
    RecordMetric,
    RequestGateReview,
    SubmitEvidence,
    Verdict,
)
from domain.identity import Actor
from domain.playbook import MetricThreshold
from domain.state import ProductState

# Who signs in a role: the role and which of its distinct signers (1, 2, ...) is needed.
SignerFor = Callable[[str, int], Actor]


def satisfying_value(threshold: MetricThreshold) -> float:
    match threshold.comparison:
        case ">=" | "<=":
            return threshold.threshold
        case ">":
            return threshold.threshold + 1
        case "<":
            return threshold.threshold - 1


def criteria_commands(state: ProductState, owner: Actor) -> list[Command]:
    """Evidence, checklist items and metrics for the current gate: everything but sign-offs."""
    gate = state.current_gate()
    assert gate is not None, "product is terminal"
    commands: list[Command] = []
    for requirement in gate.evidence:
        for n in range(requirement.min_count):
            commands.append(
                SubmitEvidence(
                    actor=owner,
                    requirement=requirement.key,
                    title=f"{requirement.title} #{n + 1}",
                    uri=f"https://docs.example.com/{requirement.key}/{n + 1}",
                )
            )
    for item in gate.checklist:
        commands.append(CompleteChecklistItem(actor=owner, item=item.key, note="done"))
    for threshold in gate.metrics:
        commands.append(
            RecordMetric(
                actor=owner,
                metric=threshold.metric,
                value=satisfying_value(threshold),
                source="analytics",
            )
        )
    return commands


def review_commands(state: ProductState, owner: Actor, signer: SignerFor) -> list[Command]:
    """The review request and enough approvals from distinct people."""
    gate = state.current_gate()
    assert gate is not None, "product is terminal"
    if not gate.sign_offs:
        return []
    commands: list[Command] = [RequestGateReview(actor=owner, note="ready for review")]
    for requirement in gate.sign_offs:
        for n in range(requirement.min_approvals):
            commands.append(
                GiveSignOff(
                    actor=signer(requirement.role, n + 1),
                    role=requirement.role,
                    verdict=Verdict.APPROVE,
                    reason="looks good",
                )
            )
    return commands


def go_command(state: ProductState, decider: Callable[[str], Actor]) -> list[Command]:
    """A Go decision by the first decider role, unless the gate passes on its own."""
    gate = state.current_gate()
    assert gate is not None, "product is terminal"
    if gate.automatic != "none":
        return []
    return [
        DecideGate(
            actor=decider(gate.decider_roles[0]), outcome=GateOutcome.GO, reason="all criteria met"
        )
    ]
