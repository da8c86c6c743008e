"""A cast of people and the commands that carry a product through any playbook's gates.

Used by tests at every layer, so the domain, the workflow and the end-to-end run walk the same
journey and differ only in how the commands are delivered.
"""

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GateOutcome,
    GiveSignOff,
    RecordMetric,
    RegisterProduct,
    RequestGateReview,
    SubmitEvidence,
    Verdict,
)
from domain.identity import Actor
from domain.playbook import MetricThreshold, Playbook
from domain.state import ProductState

OWNER = Actor(subject="pm-ada", display_name="Ada Lovelace", roles=("product-manager",))


def gatekeeper(role: str, number: int = 1) -> Actor:
    """A distinct person holding one role; number tells people in the same role apart."""
    return Actor(subject=f"{role}-{number}", display_name=f"{role.title()} {number}", roles=(role,))


def register(product_id: str, playbook: Playbook, owner: Actor = OWNER) -> RegisterProduct:
    return RegisterProduct(
        actor=owner,
        product_id=product_id,
        name=f"Product {product_id}",
        description="A product under test",
        owner=owner.subject,
        owner_name=owner.display_name,
        playbook=playbook,
    )


def satisfying_value(threshold: MetricThreshold) -> float:
    match threshold.comparison:
        case ">=" | "<=":
            return threshold.threshold
        case ">":
            return threshold.threshold + 1
        case "<":
            return threshold.threshold - 1


def commands_to_meet_criteria(state: ProductState, owner: Actor = OWNER) -> list[Command]:
    """Evidence, checklist items and metrics for the current gate, everything but sign-offs."""
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


def commands_to_sign_and_pass(state: ProductState, owner: Actor = OWNER) -> list[Command]:
    """The review request, enough approvals from distinct people, and a Go decision."""
    gate = state.current_gate()
    assert gate is not None, "product is terminal"
    commands: list[Command] = []
    if gate.sign_offs:
        commands.append(RequestGateReview(actor=owner, note="ready for review"))
        for requirement in gate.sign_offs:
            for n in range(requirement.min_approvals):
                commands.append(
                    GiveSignOff(
                        actor=gatekeeper(requirement.role, n + 1),
                        role=requirement.role,
                        verdict=Verdict.APPROVE,
                        reason="looks good",
                    )
                )
    if not gate.auto_advance:
        commands.append(
            DecideGate(
                actor=gatekeeper(gate.decider_roles[0], 99),
                outcome=GateOutcome.GO,
                reason="all criteria met",
            )
        )
    return commands
