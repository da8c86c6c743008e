"""Standard Webhooks out: one signed POST of a notification to one endpoint.

The message id (`webhook-id`) is the delivery id, the same on every attempt and on replays, so
the receiver can recognise a repeat; the timestamp and signature are made per attempt, as the
spec wants (receivers refuse stale timestamps). The secret is the endpoint's own and appears
in no log line or error.

The answer decides what happens next, as Temporal retry semantics: 2xx delivered; 429 and 5xx
(and no answer at all) retried with backoff, or after `Retry-After` when the receiver says so;
any other status refused for good, since sending the same request again would get the same
answer.
"""

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from standardwebhooks.webhooks import Webhook
from temporalio.exceptions import ApplicationError

from domain.notifications import Notification
from runtime.notification_routes import WebhookEndpoint

# A receiver asking to wait longer than this is treated as asking for this long.
LONGEST_RETRY_AFTER = timedelta(days=1)
USER_AGENT = "lifecycle-webhooks/0.1"
RETRYABLE_STATUS = frozenset({429})


def event_type(notification: Notification) -> str:
    return f"lifecycle.{notification.kind}"


def payload(notification: Notification) -> str:
    """The body as sent and signed: Standard Webhooks' type / timestamp / data envelope."""
    envelope = {
        "type": event_type(notification),
        "timestamp": notification.occurred_at.astimezone(UTC).isoformat(),
        "data": notification.model_dump(mode="json"),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def signed_headers(
    endpoint: WebhookEndpoint, message_id: str, body: str, now: datetime
) -> dict[str, str]:
    signer = Webhook(endpoint.signing_secret().get_secret_value())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(message_id, now, body),
    }


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        delay = timedelta(seconds=int(text))
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delay = max(moment - now, timedelta(0))
    return min(delay, LONGEST_RETRY_AFTER)


async def send_webhook(
    http: httpx.AsyncClient,
    name: str,
    endpoint: WebhookEndpoint,
    message_id: str,
    notification: Notification,
    now: datetime,
) -> int:
    """POSTs the signed notification; answers the receiver's status, or raises the
    ApplicationError that tells Temporal whether and when to try again."""
    body = payload(notification)
    try:
        response = await http.post(
            str(endpoint.url),
            content=body.encode("utf-8"),
            headers=signed_headers(endpoint, message_id, body, now),
        )
    except httpx.TimeoutException:
        raise ApplicationError(
            f"webhook {name} did not answer in time", type="EndpointUnreachable"
        ) from None
    except httpx.TransportError as error:
        raise ApplicationError(
            f"webhook {name} could not be reached ({type(error).__name__})",
            type="EndpointUnreachable",
        ) from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status in RETRYABLE_STATUS or status >= 500:
        delay = retry_after(response.headers.get("retry-after"), now)
        waited = f"; retry after {delay.total_seconds():g}s" if delay is not None else ""
        raise ApplicationError(
            f"webhook {name} answered {status}{waited}",
            type="EndpointUnavailable",
            next_retry_delay=delay,
        )
    raise ApplicationError(
        f"webhook {name} refused the notification with {status}",
        type="EndpointRejected",
        non_retryable=True,
    )
