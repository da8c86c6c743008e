"""The delivery workflow's activities: send one notification to one endpoint; keep a dead
letter when that will not happen.

`deliver_notification` makes one attempt and lets Temporal schedule the next from the error it
raises (see activities/webhooks.py): the backoff, the cap on attempts and `Retry-After` are the
workflow's retry policy, not loops in here. It looks the endpoint up by name in the worker's
routes, so secrets come from this process's configuration and never travel in a workflow.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.people_channels import send_to_people
from activities.webhooks import send_webhook
from runtime.notification_routes import NotificationRoutes, WebhookEndpoint
from store.dead_letters import DeadLetter as StoredDeadLetter
from store.dead_letters import DeadLetterStore
from workflows.notification_delivery import (
    DELIVER_NOTIFICATION,
    RECORD_DEAD_LETTER,
    DeadLetter,
    DeliveryReceipt,
    DeliveryRequest,
)

log = structlog.get_logger("lifecycle.notifications")


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryActivities:
    def __init__(
        self,
        routes: NotificationRoutes,
        dead_letters: DeadLetterStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._routes = routes
        self._dead_letters = dead_letters
        self._clock = clock

    @activity.defn(name=DELIVER_NOTIFICATION)
    async def deliver_notification(self, request: DeliveryRequest) -> DeliveryReceipt:
        """One attempt; raises what tells Temporal whether to try again, and when."""
        name = request.endpoint
        endpoint = self._routes.endpoint(name)
        if endpoint is None:
            raise ApplicationError(
                f"endpoint {name!r} is not in the notification routes file",
                type="EndpointNotConfigured",
                non_retryable=True,
            )
        info = activity.info()
        # Below the activity's own timeout, so a slow endpoint ends as a clean, named error.
        timeout = request.retry.attempt_timeout_seconds * 0.8
        bound = log.bind(
            delivery_id=request.delivery_id,
            endpoint=name,
            notification_id=request.notification.notification_id,
            kind=request.notification.kind,
            attempt=info.attempt,
        )
        try:
            if isinstance(endpoint, WebhookEndpoint):
                # Proxies from the environment apply, as for any outgoing HTTP of this process.
                async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
                    status = await send_webhook(
                        http,
                        name,
                        endpoint,
                        request.delivery_id,
                        request.notification,
                        self._clock(),
                    )
                receipt = DeliveryReceipt(
                    endpoint=name, channel="webhook", status_code=status, attempt=info.attempt
                )
            else:
                await send_to_people(name, endpoint, request.notification, timeout)
                receipt = DeliveryReceipt(endpoint=name, channel="people", attempt=info.attempt)
        except ApplicationError as error:
            bound.warning(
                "notification.delivery_failed", error=error.message, retry=not error.non_retryable
            )
            raise
        bound.info("notification.delivered", channel=receipt.channel, status=receipt.status_code)
        return receipt

    @activity.defn(name=RECORD_DEAD_LETTER)
    async def record_dead_letter(self, letter: DeadLetter) -> bool:
        """Keeps the dead letter (idempotent on its id); answers whether it is new."""
        stored = StoredDeadLetter.model_validate(
            {**letter.model_dump(), "retry": letter.retry.model_dump()}
        )
        new = await self._dead_letters.record(stored)
        log.warning(
            "notification.dead_lettered",
            dead_letter_id=letter.dead_letter_id,
            delivery_id=letter.delivery_id,
            endpoint=letter.endpoint,
            notification_id=letter.notification.notification_id,
            reason=letter.reason,
            error=letter.error,
            new=new,
        )
        return new
