"""Dead letters over HTTP: admins list them and replay one, which delivers it to the endpoint
again under the same webhook-id; everyone else is refused, and so are repeats and unknown ids.
Real app, time-skipping Temporal, real Postgres, a real receiver on 127.0.0.1."""

import base64
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from standardwebhooks.webhooks import Webhook
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.webhooks_delivery import DeliveryActivities
from api.dead_letter_desk import DeadLetterDesk
from runtime.notification_routes import parse_notification_routes
from store.dead_letters import DeadLetter, DeadLetterStore
from tests.api.conftest import ApiHarness
from tests.store.test_dead_letters import dead_letter
from tests.support.webhook_receiver import Answer, WebhookReceiver, receiver
from workflows.notification_delivery import DeliveryOutcome, NotificationDeliveryWorkflow

SECRET = "whsec_" + base64.b64encode(b"replayed endpoint secret").decode()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with receiver(Answer(200)) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def desk(
    api: ApiHarness,
    time_skipping_env: WorkflowEnvironment,
    app_pool: asyncpg.Pool,
    hook: WebhookReceiver,
) -> AsyncIterator[DeadLetterDesk]:
    """The API's dead-letter desk, and a worker that delivers to the receiver."""
    routes = parse_notification_routes(
        f"""
        endpoints:
          pm-portal:
            type: webhook
            url: "{hook.url}/hooks"
            secret: {SECRET}
            retry: {{initial_interval_seconds: 1, maximum_attempts: 2}}
        """,
        "test routes",
        {},
    )
    task_queue = f"dead-letters-{uuid.uuid4()}"
    store = DeadLetterStore(app_pool)
    desk = DeadLetterDesk(store, time_skipping_env.client, task_queue)
    api.services.dead_letters = desk
    delivery = DeliveryActivities(routes, store)
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[NotificationDeliveryWorkflow],
        activities=[delivery.deliver_notification, delivery.record_dead_letter],
    ):
        yield desk


@pytest_asyncio.fixture(loop_scope="session")
async def letter(desk: DeadLetterDesk) -> DeadLetter:
    # Workflow ids outlive a test on the shared Temporal server: fresh ids for every test.
    unique = uuid.uuid4().hex
    stored = dead_letter(
        7,
        dead_letter_id=unique,
        delivery_id=f"msg_{unique}",
        retry={"initial_interval_seconds": 1, "maximum_attempts": 2},
    )
    await desk.store.record(stored)
    return stored


def error_of(response: httpx.Response, status: int, rule: str) -> str:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["rule"] == rule
    message: str = error["message"]
    return message


async def test_an_admin_lists_the_dead_letters_not_yet_replayed(
    api: ApiHarness, letter: DeadLetter
) -> None:
    admin = await api.person("ann", ["admin"])

    response = await api.http.get("/notifications/dead-letters", headers=admin)

    assert response.status_code == 200, response.text
    (listed,) = response.json()["dead_letters"]
    assert listed["dead_letter_id"] == letter.dead_letter_id
    assert listed["endpoint"] == "pm-portal"
    assert listed["reason"] == "attempts_exhausted"
    assert listed["notification"]["notification_id"] == letter.notification.notification_id
    assert listed["replay"] is None


async def test_replaying_delivers_again_under_the_same_webhook_id_and_is_recorded(
    api: ApiHarness,
    letter: DeadLetter,
    hook: WebhookReceiver,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    admin = await api.person("ann", ["admin"])

    response = await api.http.post(
        f"/notifications/dead-letters/{letter.dead_letter_id}/replay", headers=admin
    )

    assert response.status_code == 202, response.text
    replay = response.json()["replay"]
    assert replay["replayed_by"] == "ann"
    handle = time_skipping_env.client.get_workflow_handle_for(
        NotificationDeliveryWorkflow.run, replay["workflow_id"]
    )
    outcome: DeliveryOutcome = await handle.result()
    assert outcome.status == "delivered"
    (request,) = hook.received
    assert request.headers["webhook-id"] == letter.delivery_id
    body = Webhook(SECRET).verify(request.body, request.headers)
    assert body["data"]["notification_id"] == letter.notification.notification_id

    pending = await api.http.get("/notifications/dead-letters", headers=admin)
    everything = await api.http.get(
        "/notifications/dead-letters", params={"include_replayed": "true"}, headers=admin
    )
    assert pending.json()["dead_letters"] == []
    (replayed,) = everything.json()["dead_letters"]
    assert replayed["replay"]["workflow_id"] == replay["workflow_id"]


async def test_a_replay_that_fails_again_leaves_a_new_dead_letter_naming_the_first(
    api: ApiHarness,
    letter: DeadLetter,
    hook: WebhookReceiver,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    admin = await api.person("ann", ["admin"])
    hook.answer_with(Answer(500))

    response = await api.http.post(
        f"/notifications/dead-letters/{letter.dead_letter_id}/replay", headers=admin
    )
    handle = time_skipping_env.client.get_workflow_handle_for(
        NotificationDeliveryWorkflow.run, response.json()["replay"]["workflow_id"]
    )
    outcome: DeliveryOutcome = await handle.result()

    assert outcome.status == "dead_lettered"
    assert len(hook.received) == 2
    listed = (await api.http.get("/notifications/dead-letters", headers=admin)).json()
    (again,) = listed["dead_letters"]
    assert again["dead_letter_id"] == outcome.dead_letter_id
    assert again["replay_of"] == letter.dead_letter_id
    assert again["delivery_id"] == letter.delivery_id


async def test_a_dead_letter_is_replayed_only_once(api: ApiHarness, letter: DeadLetter) -> None:
    admin = await api.person("ann", ["admin"])
    path = f"/notifications/dead-letters/{letter.dead_letter_id}/replay"
    await api.http.post(path, headers=admin)

    message = error_of(
        await api.http.post(path, headers=admin), 409, "dead_letter.already_replayed"
    )

    assert message.startswith(f"dead letter {letter.dead_letter_id} was replayed by ann at ")


async def test_replaying_an_unknown_dead_letter_is_refused(
    api: ApiHarness, desk: DeadLetterDesk
) -> None:
    admin = await api.person("ann", ["admin"])
    unknown = "f" * 32

    response = await api.http.post(f"/notifications/dead-letters/{unknown}/replay", headers=admin)

    assert (
        error_of(response, 404, "dead_letter.not_found") == f"there is no dead letter '{unknown}'"
    )


async def test_a_malformed_dead_letter_id_is_refused_as_invalid(
    api: ApiHarness, desk: DeadLetterDesk
) -> None:
    admin = await api.person("ann", ["admin"])

    response = await api.http.post("/notifications/dead-letters/../replay", headers=admin)
    malformed = await api.http.post("/notifications/dead-letters/NOT-HEX/replay", headers=admin)

    assert response.status_code in {404, 422}
    assert malformed.status_code == 422


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_only_admins_see_or_replay_dead_letters(
    api: ApiHarness, letter: DeadLetter, hook: WebhookReceiver, method: str
) -> None:
    lead = await api.person("lee", ["product-lead"])
    path = "/notifications/dead-letters"
    if method == "POST":
        path += f"/{letter.dead_letter_id}/replay"

    response = await api.http.request(method, path, headers=lead)

    error_of(response, 403, "auth.role_required")
    assert hook.received == []


async def test_without_delivery_set_up_dead_letters_are_unavailable(api: ApiHarness) -> None:
    admin = await api.person("ann", ["admin"])
    api.services.dead_letters = None

    response = await api.http.get("/notifications/dead-letters", headers=admin)

    error_of(response, 503, "notifications.unavailable")
