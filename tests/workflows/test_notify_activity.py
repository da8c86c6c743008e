"""The notify activity on a real Postgres: recorded once, sent once, whatever the retries."""

import asyncio
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from store.migrations import create_app_pool
from store.notification_outbox import NotificationOutbox
from tests.store.test_notification_outbox import notification
from workflows.contracts import NotifyRequest

SENT_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def outbox(app_pool: asyncpg.Pool) -> NotificationOutbox:
    return NotificationOutbox(app_pool)


@pytest.fixture
def activities(outbox: NotificationOutbox) -> NotificationActivities:
    return NotificationActivities(outbox, clock=lambda: SENT_AT)


def sent(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == "notification.sent"]


async def test_running_the_same_request_twice_sends_once(
    activities: NotificationActivities, outbox: NotificationOutbox
) -> None:
    note = notification(
        1, recipient_roles=["product-lead", "finance"], recipient_subjects=["grace"]
    )
    request = NotifyRequest(notifications=[note])
    env = ActivityEnvironment()

    with capture_logs() as first_logs:
        first = await env.run(activities.notify_stakeholders, request)
    with capture_logs() as retry_logs:
        retried = await env.run(activities.notify_stakeholders, request)

    assert (first, retried) == (1, 0)
    (line,) = sent(first_logs)
    assert line["log_level"] == "info"
    assert line["channel"] == "log"
    assert line["notification_id"] == note.notification_id
    assert line["kind"] == "approval_requested"
    assert line["product_id"] == "atlas"
    assert line["gate"] == "discovery"
    assert line["recipients"] == {"roles": ["product-lead", "finance"], "subjects": ["grace"]}
    assert line["headline"] == note.headline
    assert sent(retry_logs) == []
    assert [e["event"] for e in retry_logs] == ["notifications.already_sent"]
    (stored,) = await outbox.list()
    assert stored.delivered_at == SENT_AT


async def test_only_the_new_notifications_of_a_request_are_sent(
    activities: NotificationActivities, outbox: NotificationOutbox
) -> None:
    env = ActivityEnvironment()
    await env.run(activities.notify_stakeholders, NotifyRequest(notifications=[notification(2)]))

    with capture_logs() as logs:
        count = await env.run(
            activities.notify_stakeholders,
            NotifyRequest(notifications=[notification(1), notification(2), notification(3)]),
        )

    assert count == 2
    assert [line["notification_id"] for line in sent(logs)] == ["note-0001", "note-0003"]
    assert len(await outbox.list()) == 3


async def test_a_retry_sends_what_a_failed_attempt_recorded_but_did_not_send(
    activities: NotificationActivities, outbox: NotificationOutbox
) -> None:
    note = notification(1)
    await outbox.record([note])  # an attempt that died right after recording

    with capture_logs() as logs:
        count = await ActivityEnvironment().run(
            activities.notify_stakeholders, NotifyRequest(notifications=[note])
        )

    assert count == 1
    assert [line["notification_id"] for line in sent(logs)] == [note.notification_id]
    assert [n.delivered_at for n in await outbox.list()] == [SENT_AT]


async def test_attempts_racing_each_other_send_each_notification_once(
    activities: NotificationActivities,
) -> None:
    request = NotifyRequest(notifications=[notification(n) for n in range(5)])

    with capture_logs() as logs:
        counts = await asyncio.gather(
            *(ActivityEnvironment().run(activities.notify_stakeholders, request) for _ in range(4))
        )

    assert sum(counts) == 5
    assert sorted(line["notification_id"] for line in sent(logs)) == [
        f"note-{n:04d}" for n in range(5)
    ]


async def test_an_empty_request_sends_nothing(activities: NotificationActivities) -> None:
    with capture_logs() as logs:
        count = await ActivityEnvironment().run(
            activities.notify_stakeholders, NotifyRequest(notifications=[])
        )
    assert count == 0
    assert logs == []


async def test_input_the_outbox_refuses_fails_the_activity_for_good(
    activities: NotificationActivities, outbox: NotificationOutbox
) -> None:
    unstorable = notification(1, headline="nul \x00 byte")

    with capture_logs() as logs, pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(
            activities.notify_stakeholders, NotifyRequest(notifications=[unstorable])
        )

    assert failure.value.type == "NotificationRejected"
    assert failure.value.non_retryable
    assert sent(logs) == []
    assert await outbox.list() == []


async def test_a_database_that_is_away_fails_the_attempt_so_temporal_retries(
    database_dsn: str,
) -> None:
    pool = await create_app_pool(database_dsn)
    await pool.close()
    activities = NotificationActivities(NotificationOutbox(pool))

    with capture_logs() as logs, pytest.raises(asyncpg.InterfaceError):
        await ActivityEnvironment().run(
            activities.notify_stakeholders, NotifyRequest(notifications=[notification(1)])
        )

    assert sent(logs) == []
