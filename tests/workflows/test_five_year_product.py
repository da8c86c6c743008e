"""Five years of one product on the time-skipping server: sixty monthly KPI reviews, a metric
each month and a hold/resume round each quarter, under a small history bound so the workflow
continues as new many times. No run outgrows the bound, no review period is lost or repeated
across runs, and the workflow's state is exactly the fold of the stored events."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.events import EVENT_ADAPTER
from domain.evolve import evolve_all
from domain.stages import Stage
from domain.state import ProductState
from store.audit import verify_chain
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import hold, measure, resume
from tests.support.runs import run_lengths
from tests.workflows.plan_steps import eventually, product_in, stored
from workflows.contracts import workflow_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

pytestmark = pytest.mark.timeout(600)

MONTH = timedelta(days=30)
MONTHS = 60
BOUND = 300
# A run notices the bound when its main loop next wakes, and finishes what is in flight.
WIND_DOWN_SLACK = 60


@pytest_asyncio.fixture(loop_scope="session")
async def bounded(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore, app_pool: asyncpg.Pool
) -> AsyncIterator[ProductLifecycleClient]:
    task_queue = f"five-years-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
    ):
        yield ProductLifecycleClient(time_skipping_env.client, task_queue, history_bound=BOUND)


async def test_five_years_of_monthly_reviews_survive_every_continue_as_new(
    time_skipping_env: WorkflowEnvironment,
    bounded: ProductLifecycleClient,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
) -> None:
    await product_in(bounded, product_id, Stage.GROWTH)
    handle = time_skipping_env.client.get_workflow_handle(workflow_id_for(product_id))
    first_run = (await handle.describe()).run_id

    async def reviewed(at_least: int) -> bool:
        events = await stored(event_store, product_id)
        return bool(sum(e.type == "KpisReviewed" for e in events) >= at_least)

    for month in range(1, MONTHS + 1):
        await bounded.execute(product_id, measure("activation", 30 + month / 10))
        if month % 3 == 0:
            await bounded.execute(product_id, hold(reason=f"quarter {month // 3} budget review"))
            await bounded.execute(product_id, resume(reason="budget confirmed"))
        await time_skipping_env.sleep(MONTH)
        await eventually(partial(reviewed, month))

    lengths = await run_lengths(time_skipping_env.client, workflow_id_for(product_id), first_run)
    events = await stored(event_store, product_id)
    periods = [e.data["period"] for e in events if e.type == "KpisReviewed"]
    view = await bounded.view(product_id)
    folded = evolve_all(ProductState(), [EVENT_ADAPTER.validate_python(e.data) for e in events])

    assert len(lengths) >= 5, f"expected many runs, got histories of {lengths}"
    assert max(lengths) <= BOUND + WIND_DOWN_SLACK, lengths
    assert periods == list(range(1, len(periods) + 1))
    assert len(periods) >= MONTHS
    assert sum(e.type == "GateDecided" for e in events) >= 2 * (MONTHS // 3)
    assert view.state == folded
    assert view.state.stage is Stage.GROWTH
    assert (await verify_chain(app_pool)).ok
