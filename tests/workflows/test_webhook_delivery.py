"""Notification delivery on the real Temporal dev server (real time, so retry delays are real),
a real Postgres and a real HTTP receiver on 127.0.0.1: signed Standard Webhooks, one message id
across retries, 4xx not retried, Retry-After honoured, dead letters after the retries, and a
product that carries on while its stakeholders' endpoint is down."""

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from activities.webhooks_delivery import DeliveryActivities
from playbooks import load_playbook_catalog
from runtime.embedded_temporal import temporal_binary
from runtime.notification_routes import (
    EMBEDDED_ROUTES,
    NotificationRoutes,
    parse_notification_routes,
)
from store.dead_letters import DeadLetterStore
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.store.test_notification_outbox import notification
from tests.support.journey import commands_to_meet_criteria, commands_to_sign_and_pass, register
from tests.support.webhook_receiver import Answer, Received, closed_port, receiver
from workflows.delivery_client import start_delivery
from workflows.notification_delivery import (
    DeliveryOutcome,
    DeliveryRequest,
    NotificationDeliveryWorkflow,
    delivery_id_for,
    delivery_workflow_id,
)
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

pytestmark = pytest.mark.timeout(180)

SECRET = "whsec_" + base64.b64encode(b"pm-portal signing secret").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody else's secret!!").decode()
QUICK = "{initial_interval_seconds: 0.1, maximum_attempts: 3, attempt_timeout_seconds: 5}"


def routes_to(url: str, retry: str = QUICK) -> NotificationRoutes:
    return parse_notification_routes(
        f"""
        endpoints:
          pm-portal: {{type: webhook, url: "{url}/hooks", secret: {SECRET}, retry: {retry}}}
        routes:
          "*": [pm-portal]
        """,
        "test routes",
        {},
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


Deliver = Callable[[NotificationRoutes], Worker]


@pytest.fixture
def task_queue() -> str:
    return f"delivery-{uuid.uuid4()}"


@pytest.fixture
def worker_for(
    dev_server: WorkflowEnvironment,
    app_pool: asyncpg.Pool,
    event_store: EventStore,
    task_queue: str,
) -> Deliver:
    """A worker that runs products and their notification deliveries under given routes."""

    def build(routes: NotificationRoutes) -> Worker:
        outbox = NotificationOutbox(app_pool)
        delivery = DeliveryActivities(routes, DeadLetterStore(app_pool))
        return Worker(
            dev_server.client,
            task_queue=task_queue,
            workflows=[ProductLifecycleWorkflow, NotificationDeliveryWorkflow],
            activities=[
                EventLogActivities(event_store).append_product_events,
                NotificationActivities(outbox, routes=routes).notify_stakeholders,
                delivery.deliver_notification,
                delivery.record_dead_letter,
            ],
        )

    return build


async def deliver(client: Client, routes: NotificationRoutes, task_queue: str) -> DeliveryOutcome:
    """Delivers one fresh notification to pm-portal and waits for the outcome."""
    note = notification(1, notification_id=f"note-{uuid.uuid4().hex}")
    endpoint = routes.endpoint("pm-portal")
    assert endpoint is not None
    request = DeliveryRequest(
        delivery_id=delivery_id_for(note.notification_id, "pm-portal"),
        endpoint="pm-portal",
        notification=note,
        retry=endpoint.retry,
    )
    workflow_id = delivery_workflow_id(request.delivery_id)
    assert await start_delivery(client, request, workflow_id, task_queue)
    handle = client.get_workflow_handle_for(NotificationDeliveryWorkflow.run, workflow_id)
    return await handle.result()


def verified(request: Received, secret: str = SECRET) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


async def test_an_endpoint_receives_the_notification_signed_with_its_own_secret(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str
) -> None:
    with receiver(Answer(204)) as hook:
        routes = routes_to(hook.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        (request,) = hook.received

    assert outcome.status == "delivered"
    assert outcome.receipt is not None
    assert outcome.receipt.status_code == 204
    body = verified(request)
    assert body["type"] == "lifecycle.approval_requested"
    assert body["data"]["notification_id"] == request_note_id(body)
    assert body["data"]["headline"].startswith("Atlas Search: sign-off requested")
    assert request.headers["webhook-id"] == outcome.delivery_id
    assert request.path == "/hooks"
    with pytest.raises(WebhookVerificationError):
        verified(request, OTHER_SECRET)


def request_note_id(body: dict[str, Any]) -> str:
    note_id = body["data"]["notification_id"]
    assert isinstance(note_id, str)
    assert note_id.startswith("note-")
    return note_id


async def test_retries_carry_the_same_webhook_id_and_a_fresh_valid_signature(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str
) -> None:
    with receiver(Answer(500), Answer(503), Answer(200)) as hook:
        routes = routes_to(hook.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        requests = hook.received

    assert outcome.status == "delivered"
    assert outcome.receipt is not None
    assert outcome.receipt.attempt == 3
    assert len(requests) == 3
    assert {r.headers["webhook-id"] for r in requests} == {outcome.delivery_id}
    assert all(verified(r)["data"] == verified(requests[0])["data"] for r in requests)


async def test_a_4xx_answer_is_not_retried_and_becomes_a_dead_letter(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    with receiver(Answer(410), Answer(200)) as hook:
        routes = routes_to(hook.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        requests = hook.received

    assert outcome.status == "dead_lettered"
    assert len(requests) == 1
    assert outcome.dead_letter_id is not None
    letter = await DeadLetterStore(app_pool).get(outcome.dead_letter_id)
    assert letter is not None
    assert (letter.reason, letter.error_type) == ("rejected", "EndpointRejected")
    assert letter.error == "webhook pm-portal refused the notification with 410"


async def test_a_429_is_retried_after_the_delay_its_retry_after_asks_for(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str
) -> None:
    with receiver(Answer(429, {"Retry-After": "2"}), Answer(200)) as hook:
        routes = routes_to(hook.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        first, second = hook.received

    assert outcome.status == "delivered"
    waited = second.at - first.at
    # The policy alone would wait 0.1 s; the receiver asked for 2.
    assert 2.0 <= waited < 6.0
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


async def test_a_persistent_500_ends_in_the_dead_letter_table_after_the_retries(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    with receiver(Answer(500)) as hook:
        routes = routes_to(hook.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        requests = hook.received

    assert outcome.status == "dead_lettered"
    assert len(requests) == 3  # maximum_attempts
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    (letter,) = await DeadLetterStore(app_pool).list()
    assert letter.dead_letter_id == outcome.dead_letter_id
    assert letter.delivery_id == requests[0].headers["webhook-id"]
    assert (letter.reason, letter.endpoint) == ("attempts_exhausted", "pm-portal")
    assert letter.error == "webhook pm-portal answered 500"
    assert letter.retry["maximum_attempts"] == 3


async def test_an_unreachable_endpoint_is_retried_then_dead_lettered(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    routes = routes_to(closed_port())
    async with worker_for(routes):
        outcome = await deliver(dev_server.client, routes, task_queue)

    assert outcome.status == "dead_lettered"
    (letter,) = await DeadLetterStore(app_pool).list()
    assert letter.reason == "attempts_exhausted"
    assert letter.error == "webhook pm-portal could not be reached (ConnectError)"
    assert SECRET not in letter.model_dump_json()


async def test_a_product_carries_on_while_its_stakeholders_endpoint_is_down(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    playbook = load_playbook_catalog()["default"]
    product_id = f"hooked-{uuid.uuid4().hex[:8]}"
    slow = "{initial_interval_seconds: 0.5, maximum_attempts: 4, attempt_timeout_seconds: 5}"
    with receiver(Answer(503)) as hook:
        routes = routes_to(hook.url, retry=slow)
        async with worker_for(routes):
            products = ProductLifecycleClient(dev_server.client, task_queue)
            await products.register(register(product_id, playbook))
            for command in commands_to_meet_criteria((await products.view(product_id)).state):
                await products.execute(product_id, command)
            started = datetime.now(UTC)
            # Review, sign-offs and Go: each tells stakeholders, and every delivery fails.
            for command in commands_to_sign_and_pass((await products.view(product_id)).state):
                await products.execute(product_id, command)
            answered_in = (datetime.now(UTC) - started).total_seconds()
            view = await products.view(product_id)
            # The last notices go out after the last answer; every delivery retries 4 times
            # over ~3.5 s, then is dead-lettered.
            deadline = datetime.now(UTC).timestamp() + 60
            while datetime.now(UTC).timestamp() < deadline:
                notified = await NotificationOutbox(app_pool).list(product_id=product_id)
                letters = await DeadLetterStore(app_pool).list()
                sent = all(n.delivered_at is not None for n in notified)
                if sent and len(letters) >= len(notified) > 0:
                    break
                await asyncio.sleep(0.2)

    assert answered_in < 3.0  # not held up by the failing endpoint's retries (~3.5 s each)
    assert view.state.stage == "planning"
    assert notified, "the product's notifications are in the outbox"
    assert {n.delivered_at is not None for n in notified} == {True}  # the log channel took them
    assert sorted(d.notification.notification_id for d in letters) == sorted(
        n.notification_id for n in notified
    )
    assert len(hook.received) == 4 * len(notified)
    kinds = {json.loads(r.body)["type"] for r in hook.received}
    assert {"lifecycle.approval_requested", "lifecycle.decision"} <= kinds


def people_routes(url: str) -> NotificationRoutes:
    host_port = url.removeprefix("http://")
    return parse_notification_routes(
        f"""
        endpoints:
          pm-portal: {{type: people, urls: ["json://{host_port}/room"], retry: {QUICK}}}
        routes:
          "*": [pm-portal]
        """,
        "test routes",
        {},
    )


async def test_people_channels_get_the_headline_and_body_through_apprise(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str
) -> None:
    with receiver(Answer(200)) as room:
        routes = people_routes(room.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        (message,) = room.received

    assert outcome.status == "delivered"
    assert outcome.receipt is not None
    assert outcome.receipt.channel == "people"
    sent = json.loads(message.body)
    assert message.path == "/room"
    assert sent["title"].startswith("Atlas Search: sign-off requested")
    assert "Evidence and checklist are complete." in sent["message"]
    assert "Atlas Search (atlas), discovery gate" in sent["message"]


async def test_a_failing_people_channel_is_retried_then_dead_lettered(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    with receiver(Answer(500)) as room:
        routes = people_routes(room.url)
        async with worker_for(routes):
            outcome = await deliver(dev_server.client, routes, task_queue)
        attempts = len(room.received)

    assert outcome.status == "dead_lettered"
    assert attempts == 3
    (letter,) = await DeadLetterStore(app_pool).list()
    assert letter.error == "people channel pm-portal: 1 of 1 services did not take the message"


async def test_a_delivery_to_an_endpoint_no_longer_configured_is_dead_lettered_at_once(
    dev_server: WorkflowEnvironment, worker_for: Deliver, task_queue: str, app_pool: asyncpg.Pool
) -> None:
    with receiver(Answer(200)) as hook:
        configured_then = routes_to(hook.url)
        async with worker_for(EMBEDDED_ROUTES):  # the routes file changed since
            outcome = await deliver(dev_server.client, configured_then, task_queue)
        requests = hook.received

    assert outcome.status == "dead_lettered"
    assert requests == []
    (letter,) = await DeadLetterStore(app_pool).list()
    assert (letter.reason, letter.error_type) == ("rejected", "EndpointNotConfigured")
    assert letter.error == "endpoint 'pm-portal' is not in the notification routes file"
