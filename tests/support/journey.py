"""A cast of people and the commands that carry a product through any playbook's gates.

Used by tests at every layer, so the domain, the workflow and the end-to-end run walk the same
journey and differ only in how the commands are delivered.
"""

from domain.commands import Command, RegisterProduct
from domain.identity import Actor
from domain.playbook import Playbook
from domain.state import ProductState
from runtime.gate_walk import (
    criteria_commands,
    go_command,
    review_commands,
    satisfying_value,
)

OWNER = Actor(subject="pm-ada", display_name="Ada Lovelace", roles=("product-manager",))

__all__ = [
    "OWNER",
    "commands_to_meet_criteria",
    "commands_to_sign_and_pass",
    "gatekeeper",
    "register",
    "satisfying_value",
]


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


def commands_to_meet_criteria(state: ProductState, owner: Actor = OWNER) -> list[Command]:
    """Evidence, checklist items and metrics for the current gate, everything but sign-offs."""
    return criteria_commands(state, owner)


def commands_to_sign_and_pass(state: ProductState, owner: Actor = OWNER) -> list[Command]:
    """The review request, enough approvals from distinct people, and a Go decision."""
    return review_commands(state, owner, gatekeeper) + go_command(
        state, lambda role: gatekeeper(role, 99)
    )
