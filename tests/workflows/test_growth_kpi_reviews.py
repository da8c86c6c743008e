"""KPI reviews on a durable timer, one per period across months of simulated time, and the
notice when a KPI stays off target for the playbook's number of periods."""

from datetime import timedelta

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain.stages import Stage
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import measure
from tests.domain.plans import experiment
from tests.workflows.plan_steps import (
    eventually,
    own_products,
    product_in,
    stored,
)
from workflows.product_client import ProductLifecycleClient

__all__ = ["own_products"]

MONTH = timedelta(days=30)


async def test_kpis_are_reviewed_each_period_and_a_kpi_off_target_twice_notifies(
    time_skipping_env: WorkflowEnvironment,
    own_products: ProductLifecycleClient,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
) -> None:
    await product_in(own_products, product_id, Stage.GROWTH)
    entered = (await own_products.view(product_id)).state.stage_entered_at
    assert entered is not None
    assert (await own_products.view(product_id)).next_alarm == entered + MONTH
    await own_products.execute(product_id, measure("nps", 20))
    await own_products.execute(product_id, experiment())

    async def reviews() -> list[dict[str, object]]:
        return [e.data for e in await stored(event_store, product_id) if e.type == "KpisReviewed"]

    async def reviewed(periods: int) -> bool:
        return len(await reviews()) == periods

    await time_skipping_env.sleep(MONTH + timedelta(hours=1))
    await eventually(lambda: reviewed(1))
    await time_skipping_env.sleep(MONTH)
    await eventually(lambda: reviewed(2))
    await own_products.execute(product_id, measure("nps", 45))
    await time_skipping_env.sleep(MONTH)
    await eventually(lambda: reviewed(3))

    history = await reviews()
    assert [r["period"] for r in history] == [1, 2, 3]
    nps = [next(k for k in r["results"] if k["metric"] == "nps") for r in history]  # type: ignore[attr-defined]
    assert [(k["status"], k["periods_off_target"]) for k in nps] == [
        ("off_target", 1),
        ("off_target", 2),
        ("on_target", 0),
    ]
    events = await stored(event_store, product_id)
    [off] = [e for e in events if e.type == "KpiOffTarget"]
    assert (off.data["metric"], off.data["periods"]) == ("nps", 2)
    assert "ExperimentRecorded" in [e.type for e in events]
    outbox = NotificationOutbox(app_pool)

    async def notified() -> bool:
        return bool(await outbox.list(product_id=product_id, kind="kpi_off_target"))

    await eventually(notified)
    [notice] = await outbox.list(product_id=product_id, kind="kpi_off_target")
    assert notice.recipient_subjects == ["ada"]
    assert "nps off target for 2 review periods" in notice.headline
