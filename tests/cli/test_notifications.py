"""Dead letters with the CLI against a live API: list them, replay one so the endpoint gets it
under the same webhook-id, and refusals that exit 1 naming status and rule."""

import base64
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio
from standardwebhooks.webhooks import Webhook
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.webhooks_delivery import DeliveryActivities
from api.dead_letter_desk import DeadLetterDesk
from runtime.notification_routes import parse_notification_routes
from store.dead_letters import DeadLetter, DeadLetterStore
from tests.cli.conftest import LiveApi
from tests.store.test_dead_letters import dead_letter
from tests.support.webhook_receiver import Answer, WebhookReceiver, receiver
from workflows.notification_delivery import DeliveryOutcome, NotificationDeliveryWorkflow

SECRET = "whsec_" + base64.b64encode(b"cli replay endpoint key!").decode()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with receiver(Answer(200)) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def letter(
    live_api: LiveApi,
    time_skipping_env: WorkflowEnvironment,
    app_pool: asyncpg.Pool,
    hook: WebhookReceiver,
) -> AsyncIterator[DeadLetter]:
    """One dead letter for pm-portal, and a worker that delivers to the receiver."""
    routes = parse_notification_routes(
        f'endpoints: {{pm-portal: {{type: webhook, url: "{hook.url}/hooks", secret: {SECRET}}}}}',
        "test routes",
        {},
    )
    task_queue = f"cli-dead-letters-{uuid.uuid4()}"
    store = DeadLetterStore(app_pool)
    live_api.services.dead_letters = DeadLetterDesk(store, time_skipping_env.client, task_queue)
    unique = uuid.uuid4().hex
    stored = dead_letter(3, dead_letter_id=unique, delivery_id=f"msg_{unique}")
    await store.record(stored)
    delivery = DeliveryActivities(routes, store)
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[NotificationDeliveryWorkflow],
        activities=[delivery.deliver_notification, delivery.record_dead_letter],
    ):
        yield stored


async def test_dead_letters_are_listed_in_a_table(live_api: LiveApi, letter: DeadLetter) -> None:
    run = (await live_api.cli("notifications", "dead-letters")).ok()

    assert letter.dead_letter_id in run.stdout
    assert "pm-portal" in run.stdout
    assert "attempts_exhausted" in run.stdout
    assert "webhook pm-portal answered 500" in run.stdout


async def test_replay_delivers_the_dead_letter_under_its_webhook_id(
    live_api: LiveApi,
    letter: DeadLetter,
    hook: WebhookReceiver,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    run = (
        await live_api.cli("notifications", "replay", letter.dead_letter_id, "--output", "json")
    ).ok()

    handle = time_skipping_env.client.get_workflow_handle_for(
        NotificationDeliveryWorkflow.run, run.json()["replay"]["workflow_id"]
    )
    outcome: DeliveryOutcome = await handle.result()
    assert outcome.status == "delivered"
    (request,) = hook.received
    assert request.headers["webhook-id"] == letter.delivery_id
    Webhook(SECRET).verify(request.body, request.headers)
    pending = (await live_api.cli("notifications", "dead-letters")).ok()
    assert pending.stdout.strip() == "no dead letters waiting for a replay"
    everything = (await live_api.cli("notifications", "dead-letters", "--all")).ok()
    assert "by admin-ann" in everything.stdout


async def test_replaying_twice_is_refused_naming_the_first_replay(
    live_api: LiveApi, letter: DeadLetter
) -> None:
    (await live_api.cli("notifications", "replay", letter.dead_letter_id)).ok()

    again = await live_api.cli("notifications", "replay", letter.dead_letter_id)

    assert again.exit_code == 1
    assert again.reason.startswith(
        f"refused (409 dead_letter.already_replayed): dead letter {letter.dead_letter_id} "
        "was replayed by admin-ann at "
    )


async def test_a_non_admin_is_refused_the_dead_letters(
    live_api: LiveApi, letter: DeadLetter
) -> None:
    lead = live_api.as_(await live_api.token_for("lee", ["product-lead"]))

    run = await lead("notifications", "dead-letters")

    assert run.exit_code == 1
    assert run.reason.startswith("refused (403 auth.role_required): ")
