"""The end-of-life timer: after the Go into sunset the workflow sleeps until each scheduled
communication and the end-of-life date, defers retirement while the exit checklist does not
hold, and retires the product on the next attempt once it does, every step in the store."""

from datetime import timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.stages import Stage
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import LINUS, go, tick
from tests.domain.plans import propose_sunset
from tests.workflows.plan_steps import (
    eventually,
    own_products,
    product_in,
    stored,
    stored_types,
)
from workflows.product_client import ProductLifecycleClient

__all__ = ["own_products"]


async def test_the_end_of_life_date_retires_the_product_with_every_step_audited(
    time_skipping_env: WorkflowEnvironment,
    own_products: ProductLifecycleClient,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
) -> None:
    await product_in(own_products, product_id, Stage.MATURITY)
    entered = (await own_products.view(product_id)).state.stage_entered_at
    assert entered is not None
    end_of_life = entered + timedelta(days=120)
    await own_products.execute(product_id, propose_sunset(end_of_life))
    await own_products.execute(product_id, go(reason="sunset approved"))
    view = await own_products.view(product_id)
    assert view.state.stage is Stage.SUNSET
    assert view.next_alarm == end_of_life - timedelta(days=60)

    async def sent() -> list[str]:
        return [
            e.data["key"]
            for e in await stored(event_store, product_id)
            if e.type == "SunsetCommunicationSent"
        ]

    await time_skipping_env.sleep(timedelta(days=61))

    async def announced() -> bool:
        return await sent() == ["announcement"]

    await eventually(announced)
    await time_skipping_env.sleep(timedelta(days=59, hours=12))  # half a day past the end of life

    async def deferred() -> bool:
        return "RetirementDeferred" in await stored_types(event_store, product_id)

    await eventually(deferred)
    assert await sent() == ["announcement", "stakeholder-update"]
    assert (await own_products.view(product_id)).state.stage is Stage.SUNSET
    await own_products.execute(product_id, tick("data-deleted", by=LINUS))
    await time_skipping_env.sleep(timedelta(days=1))

    outcome = await own_products.outcome(product_id)

    assert outcome.status == "retired"
    events = await stored(event_store, product_id)
    tail = [e.type for e in events][[e.type for e in events].index("SunsetProposed") :]
    assert tail == [
        "SunsetProposed",
        "GateDecided",
        "StageEntered",
        "SunsetCommunicationSent",
        "SunsetCommunicationSent",
        "RetirementDeferred",
        "ChecklistItemCompleted",
        "GateDecided",
        "StageEntered",
    ]
    retired = events[-2]
    assert retired.data["automatic"] is True
    assert retired.data["gate"] == "sunset"
    assert events[-1].data["stage"] == "retired"
    assert events[-1].data["occurred_at"] >= end_of_life.isoformat().replace("+00:00", "Z")
    assert events[-1].data["occurred_at"] >= events[-3].data["occurred_at"]
    outbox = NotificationOutbox(app_pool)

    async def everyone_told() -> bool:
        kinds = {n.kind for n in await outbox.list(product_id=product_id)}
        return {"sunset_announced", "end_of_life_communication", "retirement_deferred"} <= kinds

    await eventually(everyone_told)
