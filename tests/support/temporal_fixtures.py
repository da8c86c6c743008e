"""Temporal fixtures shared by the workflow, API and CLI tests: a time-skipping test server and a
worker per test, the worker appending to that test's database."""

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

TEST_SERVER = Path(sys.executable).with_name("temporal-test-server")


@pytest_asyncio.fixture(loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server per test, because the test server runs its clock at real pace while any workflow
    task or activity is waiting to be picked up. A product an earlier test left open has timers
    but no worker any more: once a later test skips time past them, the task they schedule is
    never taken, and every later wait for a timer on a shared server lasts its real length.
    Starting a server per test added no measurable time to the suite."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def products(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore, app_pool: asyncpg.Pool
) -> AsyncIterator[ProductLifecycleClient]:
    task_queue = f"lifecycle-test-{uuid.uuid4()}"
    worker = Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
    )
    async with worker:
        yield ProductLifecycleClient(time_skipping_env.client, task_queue)


@pytest.fixture
def product_id() -> str:
    """Workflow ids outlive a test on the shared server, so every test gets its own product."""
    return f"product-{uuid.uuid4().hex[:12]}"
