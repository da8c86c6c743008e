"""Registering a product under a playbook."""

from datetime import datetime

from domain.command_context import NewId
from domain.commands import (
    RegisterProduct,
)
from domain.events import (
    Event,
    ProductRegistered,
)
from domain.identity import attribution
from domain.refusals import CommandRefused
from domain.stages import LIFECYCLE_PATH
from domain.state import ProductState


def register(
    state: ProductState, command: RegisterProduct, now: datetime, new_id: NewId
) -> list[Event]:
    if state.is_registered:
        raise CommandRefused(
            "product.already_registered",
            f"product '{state.product_id}' is already registered (stage {state.stage})",
        )
    first_stage = LIFECYCLE_PATH[0]
    return [
        ProductRegistered(
            event_id=new_id(),
            product_id=command.product_id,
            occurred_at=now,
            actor=attribution(command.actor),
            name=command.name,
            description=command.description,
            owner=command.owner,
            owner_name=command.owner_name,
            stage=first_stage,
            playbook=command.playbook,
            playbook_fingerprint=command.playbook.fingerprint(),
        )
    ]
