"""The GTM checklist on durable timers: owners are reminded on the due dates, across weeks of
simulated time, until their item is done."""

from datetime import timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.stages import Stage
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import tick
from tests.domain.plans import plan_launch
from tests.workflows.plan_steps import (
    eventually,
    own_products,
    product_in,
    stored,
    stored_types,
)

__all__ = ["own_products"]
from workflows.product_client import ProductLifecycleClient


async def test_gtm_owners_are_reminded_on_the_due_dates_until_the_item_is_done(
    time_skipping_env: WorkflowEnvironment,
    own_products: ProductLifecycleClient,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
) -> None:
    await product_in(own_products, product_id, Stage.LAUNCH)
    view = await own_products.view(product_id)
    plan = view.state.launch_plan
    assert plan is not None
    assert plan.launch_at == view.state.stage_entered_at + timedelta(days=30)
    due = {i.item: i.due_at for i in plan.items}
    assert due["positioning"] == plan.launch_at - timedelta(days=14)
    assert view.next_alarm == due["positioning"]

    async def overdue() -> list[tuple[str, int]]:
        return [
            (e.data["item"], e.data["reminder"])
            for e in await stored(event_store, product_id)
            if e.type == "GtmItemOverdue"
        ]

    await time_skipping_env.sleep(timedelta(days=16, hours=1))

    async def positioning_reminded() -> bool:
        return await overdue() == [("positioning", 1)]

    await eventually(positioning_reminded)
    await own_products.execute(product_id, tick("positioning", note="deck approved"))
    await time_skipping_env.sleep(timedelta(days=7))

    async def pricing_reminded() -> bool:
        return ("pricing", 1) in await overdue()

    await eventually(pricing_reminded)
    assert [item for item, _ in await overdue()].count("positioning") == 1
    outbox = NotificationOutbox(app_pool)

    async def owners_told() -> bool:
        told = await outbox.list(product_id=product_id, kind="gtm_item_overdue")
        return {tuple(n.recipient_roles) for n in told} == {("pm",), ("finance",)}

    await eventually(owners_told)
    assert await outbox.list(product_id=product_id, kind="launch_planned")


async def test_moving_the_launch_date_moves_the_reminders(
    time_skipping_env: WorkflowEnvironment,
    own_products: ProductLifecycleClient,
    event_store: EventStore,
    product_id: str,
) -> None:
    await product_in(own_products, product_id, Stage.LAUNCH)
    entered = (await own_products.view(product_id)).state.stage_entered_at
    assert entered is not None
    await own_products.execute(product_id, plan_launch(entered + timedelta(days=90)))
    view = await own_products.view(product_id)
    assert view.next_alarm == entered + timedelta(days=76)

    await time_skipping_env.sleep(timedelta(days=30))
    await eventually(lambda: _no_reminder_yet(event_store, product_id))
    assert "GtmItemOverdue" not in await stored_types(event_store, product_id)

    await time_skipping_env.sleep(timedelta(days=47))

    async def reminded() -> bool:
        return "GtmItemOverdue" in await stored_types(event_store, product_id)

    await eventually(reminded)


async def _no_reminder_yet(event_store: EventStore, product_id: str) -> bool:
    return "GtmItemOverdue" not in await stored_types(event_store, product_id)
