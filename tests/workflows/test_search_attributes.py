"""Operators find products by stage, status and owner in the Temporal UI and `list_workflows`,
on the embedded dev server exactly as `lifecycle dev` starts it."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.commands import DecideGate, GateOutcome
from playbooks import load_default_playbook
from runtime.embedded_temporal import EmbeddedTemporal, start_embedded_temporal, temporal_binary
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.support.journey import OWNER, commands_to_meet_criteria, commands_to_sign_and_pass
from tests.support.journey import register as registration
from worker import connect_temporal
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow
from workflows.visibility import SearchAttributesMissing, require_search_attributes

pytestmark = pytest.mark.timeout(180)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def embedded_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTemporal]:
    data_dir: Path = tmp_path_factory.mktemp("temporal")
    server = start_embedded_temporal(data_dir, port=free_port(), ui_port=free_port())
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def client(embedded_temporal: EmbeddedTemporal) -> Client:
    return await connect_temporal(embedded_temporal.address, "default")


@pytest_asyncio.fixture(loop_scope="session")
async def products(
    client: Client, event_store: EventStore, app_pool: asyncpg.Pool
) -> AsyncIterator[ProductLifecycleClient]:
    task_queue = f"visibility-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
    ):
        yield ProductLifecycleClient(client, task_queue, publish_search_attributes=True)


async def ids_matching(client: Client, query: str, expected: set[str]) -> set[str]:
    """Visibility is eventually consistent: poll briefly until the expected ids show up."""
    found: set[str] = set()
    for _ in range(50):
        found = {execution.id async for execution in client.list_workflows(query)}
        if expected <= found:
            break
        await asyncio.sleep(0.2)
    return found


async def test_the_embedded_dev_server_registers_the_attributes_at_start(
    client: Client,
) -> None:
    await require_search_attributes(client, "default")


async def test_products_are_found_by_stage_status_and_owner_as_they_move(
    client: Client, products: ProductLifecycleClient
) -> None:
    moving, staying = (f"vis-{uuid.uuid4().hex[:8]}" for _ in range(2))
    playbook = load_default_playbook()
    for product_id in (moving, staying):
        await products.register(registration(product_id, playbook))
    for command in commands_to_meet_criteria((await products.view(moving)).state):
        await products.execute(moving, command)
    for command in commands_to_sign_and_pass((await products.view(moving)).state):
        await products.execute(moving, command)

    workflow_of = {p: f"product-{p}" for p in (moving, staying)}
    in_planning = await ids_matching(client, "LifecycleStage = 'planning'", {workflow_of[moving]})
    in_discovery = await ids_matching(
        client, "LifecycleStage = 'discovery'", {workflow_of[staying]}
    )
    owned = await ids_matching(
        client, f"LifecycleOwner = '{OWNER.subject}'", set(workflow_of.values())
    )

    assert workflow_of[moving] in in_planning
    assert workflow_of[staying] not in in_planning
    assert workflow_of[staying] in in_discovery
    assert workflow_of[moving] not in in_discovery
    assert set(workflow_of.values()) <= owned


async def test_a_product_on_hold_is_found_by_its_status(
    client: Client, products: ProductLifecycleClient
) -> None:
    product_id = f"vis-{uuid.uuid4().hex[:8]}"
    await products.register(registration(product_id, load_default_playbook()))
    decider = commands_to_sign_and_pass((await products.view(product_id)).state)[-1].actor
    await products.execute(
        product_id,
        DecideGate(actor=decider, outcome=GateOutcome.HOLD, reason="budget freeze until Q3"),
    )

    on_hold = await ids_matching(client, "LifecycleStatus = 'on_hold'", {f"product-{product_id}"})

    assert f"product-{product_id}" in on_hold


async def test_a_namespace_without_the_attributes_is_refused_naming_them() -> None:
    bare = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), data_converter=pydantic_data_converter
    )
    try:
        with pytest.raises(SearchAttributesMissing) as refused:
            await require_search_attributes(bare.client, "default")
    finally:
        await bare.shutdown()

    message = str(refused.value)
    for name in ("LifecycleStage", "LifecycleStatus", "LifecycleOwner"):
        assert name in message
    assert "LIFECYCLE_SEARCH_ATTRIBUTES=false" in message
