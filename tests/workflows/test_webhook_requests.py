"""What a webhook request is made of (the envelope, the signed headers) and how a receiver's
`Retry-After` is read, without a server: the delivery tests cover the wire."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from activities.webhooks import LONGEST_RETRY_AFTER, payload, retry_after, signed_headers
from runtime.notification_routes import WebhookEndpoint
from tests.store.test_notification_outbox import notification

SECRET = "whsec_" + base64.b64encode(b"request building secret!").decode()
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_the_body_is_the_standard_webhooks_envelope_of_the_notification() -> None:
    note = notification(3, kind="decision")

    body = json.loads(payload(note))

    assert body["type"] == "lifecycle.decision"
    assert body["timestamp"] == "2026-03-02T09:33:00+00:00"
    assert body["data"] == note.model_dump(mode="json")


def test_the_headers_sign_the_exact_body_with_the_endpoint_secret() -> None:
    endpoint = WebhookEndpoint(type="webhook", url="https://example.com/h", secret=SECRET)
    body = payload(notification(1))
    now = datetime.now(UTC)

    headers = signed_headers(endpoint, "msg_abc", body, now)

    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)
    assert SECRET.removeprefix("whsec_") not in json.dumps(headers)


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("7", timedelta(seconds=7)),
        (" 0 ", timedelta(0)),
        ("Mon, 02 Mar 2026 12:00:30 GMT", timedelta(seconds=30)),
        ("Mon, 02 Mar 2026 11:00:00 GMT", timedelta(0)),  # already past: retry now
        ("999999999", LONGEST_RETRY_AFTER),
        (None, None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(
    header: str | None, delay: timedelta | None
) -> None:
    assert retry_after(header, NOW) == delay
