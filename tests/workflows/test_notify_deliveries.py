"""The notify activity under a routes file: it records the outbox, then starts one delivery per
(notification, endpoint) the routes name, and a retry of it starts nothing twice. Real Temporal
(time-skipping server), real Postgres, a real receiver on 127.0.0.1."""

import asyncio
import base64
import dataclasses
import json
import uuid
from collections import Counter

import asyncpg
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.webhooks_delivery import DeliveryActivities
from runtime.notification_routes import parse_notification_routes
from store.dead_letters import DeadLetterStore
from store.notification_outbox import NotificationOutbox
from tests.store.test_notification_outbox import notification
from tests.support.webhook_receiver import Answer, receiver
from workflows.contracts import NotifyRequest
from workflows.notification_delivery import NotificationDeliveryWorkflow, delivery_id_for

SECRET = "whsec_" + base64.b64encode(b"routing test endpoint ke").decode()


async def test_each_routed_endpoint_gets_each_notification_once_even_when_notify_is_retried(
    time_skipping_env: WorkflowEnvironment, app_pool: asyncpg.Pool
) -> None:
    task_queue = f"notify-{uuid.uuid4()}"
    run = uuid.uuid4().hex[:8]
    approval = notification(1, notification_id=f"approval-{run}")
    decision = notification(2, notification_id=f"decision-{run}", kind="decision")
    with receiver(Answer(200)) as hook:
        routes = parse_notification_routes(
            f"""
            endpoints:
              board: {{type: webhook, url: "{hook.url}/board", secret: {SECRET}}}
              finance: {{type: webhook, url: "{hook.url}/finance", secret: {SECRET}}}
            routes:
              decision: [finance]
              "*": [board]
            """,
            "test routes",
            {},
        )
        notify = NotificationActivities(NotificationOutbox(app_pool), routes=routes)
        env = ActivityEnvironment(client=time_skipping_env.client)
        env.info = dataclasses.replace(env.info, task_queue=task_queue)
        delivery = DeliveryActivities(routes, DeadLetterStore(app_pool))
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            workflows=[NotificationDeliveryWorkflow],
            activities=[delivery.deliver_notification, delivery.record_dead_letter],
        ):
            request = NotifyRequest(notifications=[approval, decision])
            await env.run(notify.notify_stakeholders, request)
            await env.run(notify.notify_stakeholders, request)  # a retry after a lost answer
            await asyncio.to_thread(hook.wait_for, 3)
            await asyncio.sleep(0.5)  # room for a duplicate to show up, if one were sent
        received = list(hook.received)

    by_target = Counter((r.path, json.loads(r.body)["data"]["notification_id"]) for r in received)
    assert by_target == {
        ("/board", approval.notification_id): 1,
        ("/board", decision.notification_id): 1,
        ("/finance", decision.notification_id): 1,
    }
    ids = {(r.path, r.headers["webhook-id"]) for r in received}
    assert ("/finance", delivery_id_for(decision.notification_id, "finance")) in ids
    assert ("/board", delivery_id_for(decision.notification_id, "board")) in ids
