"""One workflow per (notification, endpoint): deliver it with retries, or dead-letter it.

Delivery lives apart from the product's workflow so that a slow or failing endpoint never holds
up a product: the notify activity only starts these and moves on. The workflow id is the
delivery id, derived from the notification and the endpoint, and starts are refused for an id
used before, so a retried notify activity never starts a delivery twice. A replay of a dead
letter is a new workflow (its own id) carrying the same delivery id, which is also the
`webhook-id` the receiver deduplicates on.

Secrets never enter these inputs or histories: the delivery carries the endpoint's name and the
activity looks up its address and secret in the worker's routes file.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, RetryState

with workflow.unsafe.imports_passed_through():
    from domain.notifications import Notification

DELIVER_NOTIFICATION = "deliver_notification"
RECORD_DEAD_LETTER = "record_dead_letter"
# Recording a dead letter only waits for the database: it retries until it is written.
DEAD_LETTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeliveryRetry(_Frozen):
    """How hard to try one endpoint: exponential backoff between attempts, then dead-letter."""

    initial_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    backoff_coefficient: float = Field(default=2.0, ge=1.0, le=10.0)
    maximum_interval_seconds: float = Field(default=600.0, gt=0, le=86_400)
    maximum_attempts: int = Field(default=8, ge=1, le=100)
    attempt_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=timedelta(seconds=self.initial_interval_seconds),
            backoff_coefficient=self.backoff_coefficient,
            maximum_interval=timedelta(
                seconds=max(self.maximum_interval_seconds, self.initial_interval_seconds)
            ),
            maximum_attempts=self.maximum_attempts,
        )


def delivery_id_for(notification_id: str, endpoint: str) -> str:
    """Stable across retries, replays and workers: the receiver's idempotency key."""
    digest = hashlib.sha256(f"{notification_id}\n{endpoint}".encode()).hexdigest()[:32]
    return f"msg_{digest}"


def replay_workflow_id(delivery_id: str, dead_letter_id: str) -> str:
    return f"notification-delivery-{delivery_id}-replay-{dead_letter_id}"


def delivery_workflow_id(delivery_id: str) -> str:
    return f"notification-delivery-{delivery_id}"


class DeliveryRequest(_Frozen):
    delivery_id: str
    endpoint: str
    notification: Notification
    retry: DeliveryRetry = DeliveryRetry()
    replay_of: str | None = None


class DeliveryReceipt(_Frozen):
    """What one successful attempt answers: where it went and how the receiver answered."""

    endpoint: str
    channel: Literal["webhook", "people"]
    status_code: int | None = None
    attempt: int


class DeadLetter(_Frozen):
    """A delivery that will not happen by itself: kept to be looked at and replayed."""

    dead_letter_id: str
    delivery_id: str
    workflow_id: str
    endpoint: str
    notification: Notification
    retry: DeliveryRetry
    reason: Literal["attempts_exhausted", "rejected", "failed"]
    error: str
    error_type: str | None = None
    failed_at: datetime
    replay_of: str | None = None


class DeliveryOutcome(_Frozen):
    delivery_id: str
    status: Literal["delivered", "dead_lettered"]
    receipt: DeliveryReceipt | None = None
    dead_letter_id: str | None = None


def _reason(error: ActivityError) -> Literal["attempts_exhausted", "rejected", "failed"]:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        return "rejected"
    if error.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return "attempts_exhausted"
    return "failed"


@workflow.defn(name="NotificationDelivery")
class NotificationDeliveryWorkflow:
    @workflow.run
    async def run(self, request: DeliveryRequest) -> DeliveryOutcome:
        try:
            receipt: DeliveryReceipt = await workflow.execute_activity(
                DELIVER_NOTIFICATION,
                request,
                result_type=DeliveryReceipt,
                start_to_close_timeout=timedelta(seconds=request.retry.attempt_timeout_seconds),
                retry_policy=request.retry.policy(),
            )
        except ActivityError as error:
            cause = error.cause
            letter = DeadLetter(
                dead_letter_id=workflow.uuid4().hex,
                delivery_id=request.delivery_id,
                workflow_id=workflow.info().workflow_id,
                endpoint=request.endpoint,
                notification=request.notification,
                retry=request.retry,
                reason=_reason(error),
                error=cause.message if isinstance(cause, FailureError) else error.message,
                error_type=cause.type if isinstance(cause, ApplicationError) else None,
                failed_at=workflow.now(),
                replay_of=request.replay_of,
            )
            await workflow.execute_activity(
                RECORD_DEAD_LETTER,
                letter,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DEAD_LETTER_RETRY,
            )
            return DeliveryOutcome(
                delivery_id=request.delivery_id,
                status="dead_lettered",
                dead_letter_id=letter.dead_letter_id,
            )
        return DeliveryOutcome(delivery_id=request.delivery_id, status="delivered", receipt=receipt)
