"""Sending a person's command to a product, and answering with what it changed.

Every route that commands a product goes through `send_command`, so each honours the
`Idempotency-Key` the same way and answers in the same shape.
"""

from api.idempotency import update_id_for
from api.schemas import CommandResult, EventSummary
from api.services import ApiServices
from domain.commands import Command
from workflows.contracts import CommandReceipt


def command_result(receipt: CommandReceipt) -> CommandResult:
    return CommandResult(
        product_id=receipt.product_id,
        stage=receipt.stage,
        version=receipt.version,
        events=[
            EventSummary(event_id=e.event_id, type=e.type, occurred_at=e.occurred_at)
            for e in receipt.events
        ],
        gate=receipt.gate,
    )


async def send_command(
    services: ApiServices, product_id: str, command: Command, idempotency_key: str | None
) -> CommandResult:
    update_id = update_id_for(command.actor.subject, product_id, idempotency_key)
    return command_result(await services.products.execute(product_id, command, update_id=update_id))
