"""The activity that tells stakeholders what happened to a product: the embedded log channel.

Outbox first, then delivery. The notifications are recorded in the outbox (idempotent on their
ids, which the workflow derives from the events that caused them), then every one of them not
yet delivered is claimed (``delivered_at`` stamped where still empty) and sent as one
structured log line. So a retried activity sends nothing twice, two attempts racing each other
send each notification once, and an attempt that died after recording but before sending
leaves its notifications to the retry rather than losing them.

Then, for every endpoint the routes file sends a notification's kind to, it starts one delivery
workflow (workflows/notification_delivery.py) and returns without waiting for it: an endpoint
that is slow or down delays and fails only its own delivery, never the product's workflow. The
delivery workflow id is derived from the notification and the endpoint and never reused, so a
retried activity starts nothing twice; it starts them all again on a retry (not only the newly
recorded), so an attempt that died between recording and starting loses no delivery.

This activity's failures stay its own: it raises on database or Temporal trouble (Temporal
retries it with the workflow's retry policy) and turns input the outbox will never accept into
a non-retryable error; it never touches the product's event stream.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.notifications import Notification
from runtime.notification_routes import EMBEDDED_ROUTES, NotificationRoutes
from store.notification_outbox import NotificationOutbox
from workflows.contracts import NOTIFY_STAKEHOLDERS, NotifyRequest
from workflows.delivery_client import start_delivery
from workflows.notification_delivery import (
    DeliveryRequest,
    delivery_id_for,
    delivery_workflow_id,
)

LOG_CHANNEL = "log"
log = structlog.get_logger("lifecycle.notifications")


def utc_now() -> datetime:
    return datetime.now(UTC)


class NotificationActivities:
    def __init__(
        self,
        outbox: NotificationOutbox,
        clock: Callable[[], datetime] = utc_now,
        routes: NotificationRoutes = EMBEDDED_ROUTES,
    ) -> None:
        self._outbox = outbox
        self._clock = clock
        self._routes = routes

    @activity.defn(name=NOTIFY_STAKEHOLDERS)
    async def notify_stakeholders(self, request: NotifyRequest) -> int:
        """Records and sends the request's notifications; answers how many this call sent
        (the new ones, or on a retry those an earlier attempt recorded but did not send)."""
        if not request.notifications:
            return 0
        try:
            new = await self._outbox.record(request.notifications)
            claimed = await self._outbox.mark_delivered(
                [n.notification_id for n in request.notifications], self._clock()
            )
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as error:
            # The same input will be refused on every retry: fail the activity for good.
            raise ApplicationError(
                f"the outbox refused the notifications: {error}",
                type="NotificationRejected",
                non_retryable=True,
            ) from error
        by_id = {n.notification_id: n for n in request.notifications}
        info = activity.info()
        for notification_id in claimed:
            _send(by_id[notification_id], info)
        if skipped := len(by_id) - len(claimed):
            log.info(
                "notifications.already_sent",
                count=skipped,
                recorded_now=len(new),
                workflow_id=info.workflow_id,
                attempt=info.attempt,
            )
        await self._start_deliveries(request.notifications, info)
        return len(claimed)

    async def _start_deliveries(
        self, notifications: list[Notification], info: activity.Info
    ) -> None:
        deliveries = [
            DeliveryRequest(
                delivery_id=delivery_id_for(notification.notification_id, name),
                endpoint=name,
                notification=notification,
                retry=endpoint.retry,
            )
            for notification in notifications
            for name in self._routes.endpoints_for(notification.kind)
            if (endpoint := self._routes.endpoint(name)) is not None
        ]
        if not deliveries:
            return
        client = activity.client()
        started = await asyncio.gather(
            *(
                start_delivery(
                    client, delivery, delivery_workflow_id(delivery.delivery_id), info.task_queue
                )
                for delivery in deliveries
            )
        )
        log.info(
            "notifications.deliveries_started",
            started=sum(started),
            already_started=len(started) - sum(started),
            workflow_id=info.workflow_id,
            attempt=info.attempt,
        )


def _send(notification: Notification, info: activity.Info) -> None:
    """The log channel: one JSON line per notification, naming who it is for."""
    log.info(
        "notification.sent",
        channel=LOG_CHANNEL,
        notification_id=notification.notification_id,
        kind=notification.kind,
        product_id=notification.product_id,
        product_name=notification.product_name,
        gate=notification.gate,
        round=notification.round,
        recipients={
            "roles": notification.recipient_roles,
            "subjects": notification.recipient_subjects,
        },
        headline=notification.headline,
        body=notification.body,
        occurred_at=notification.occurred_at.isoformat(),
        workflow_id=info.workflow_id,
        attempt=info.attempt,
    )
