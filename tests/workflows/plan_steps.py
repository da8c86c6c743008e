"""Shared steps for the launch, growth and sunset workflow tests on the time-skipping server."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.stages import Stage
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import register
from tests.domain.plans import PLANS, commands_to
from workflows.contracts import stream_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    """Timers fire on the server; the worker's reaction arrives a moment later in real time."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def stored(event_store: EventStore, product_id: str) -> list[Any]:
    return list(await event_store.read_stream(stream_id_for(product_id)))


async def stored_types(event_store: EventStore, product_id: str) -> list[str]:
    return [e.type for e in await stored(event_store, product_id)]


async def product_in(products: ProductLifecycleClient, product_id: str, stage: Stage) -> datetime:
    """Registers a product under the plans playbook and walks it to `stage`; returns the
    workflow time it was registered at."""
    receipt = await products.register(register(PLANS, product_id=product_id))
    registered_at = receipt.events[0].occurred_at
    for command in commands_to(stage, registered_at):
        await products.execute(product_id, command)
    return registered_at


@pytest_asyncio.fixture(loop_scope="session", params=["cached", "replaying"])
async def own_products(
    request: pytest.FixtureRequest,
    time_skipping_env: WorkflowEnvironment,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
) -> AsyncIterator[ProductLifecycleClient]:
    """A worker on the test's own server; `replaying` keeps no workflow cache, so every
    activation replays the history from the start, as after a crash, and must decide alike."""
    task_queue = f"plans-{uuid.uuid4()}"
    worker = Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        max_cached_workflows=0 if request.param == "replaying" else 1000,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
    )
    async with worker:
        yield ProductLifecycleClient(time_skipping_env.client, task_queue)
