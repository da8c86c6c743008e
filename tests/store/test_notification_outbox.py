"""The notification outbox against a real Postgres, acting as the application role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.notifications import Notification
from domain.stages import Stage
from store.notification_outbox import Audience, NotificationOutbox, RecordedNotification

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def notification(n: int = 0, **overrides: Any) -> Notification:
    """A notification with sensible defaults; `n` makes the id and moves the time along."""
    fields: dict[str, Any] = {
        "notification_id": f"note-{n:04d}",
        "kind": "approval_requested",
        "product_id": "atlas",
        "product_name": "Atlas Search",
        "gate": Stage.DISCOVERY,
        "round": 1,
        "recipient_roles": ["product-lead"],
        "recipient_subjects": [],
        "headline": f"Atlas Search: sign-off requested ({n})",
        "body": "Evidence and checklist are complete.",
        "occurred_at": T0 + timedelta(minutes=n),
    }
    fields.update(overrides)
    return Notification(**fields)


@pytest.fixture
def outbox(app_pool: asyncpg.Pool) -> NotificationOutbox:
    return NotificationOutbox(app_pool)


def ids(notes: list[RecordedNotification]) -> list[str]:
    return [n.notification_id for n in notes]


# -- record ---------------------------------------------------------------------------------


async def test_recording_the_same_notification_twice_stores_it_once(
    outbox: NotificationOutbox, app_pool: asyncpg.Pool
) -> None:
    note = notification(1)

    first = await outbox.record([note])
    again = await outbox.record([note])

    assert first == [note]
    assert again == []
    assert await app_pool.fetchval("SELECT count(*) FROM notification_outbox") == 1


async def test_a_batch_answers_only_its_new_notifications_in_the_order_given(
    outbox: NotificationOutbox,
) -> None:
    await outbox.record([notification(2)])

    new = await outbox.record([notification(3), notification(2), notification(1), notification(3)])

    assert [n.notification_id for n in new] == ["note-0003", "note-0001"]
    assert ids(await outbox.list()) == ["note-0003", "note-0002", "note-0001"]


async def test_the_first_content_under_an_id_is_kept(outbox: NotificationOutbox) -> None:
    await outbox.record([notification(1, headline="first")])

    assert await outbox.record([notification(1, headline="second")]) == []

    (stored,) = await outbox.list()
    assert stored.headline == "first"


async def test_an_empty_batch_records_nothing(outbox: NotificationOutbox) -> None:
    assert await outbox.record([]) == []
    assert await outbox.list() == []


async def test_a_recorded_notification_reads_back_with_its_outbox_fields(
    outbox: NotificationOutbox,
) -> None:
    note = notification(
        7,
        kind="decision",
        gate=Stage.LAUNCH,
        round=3,
        recipient_roles=["exec-sponsor", "finance"],
        recipient_subjects=["grace", "ada/lovelace"],
        body="Go: ready for the market. ünïcødé ✓",
    )
    before = datetime.now(UTC)
    await outbox.record([note])

    (stored,) = await outbox.list()

    assert stored.model_dump(exclude={"recorded_at", "delivered_at", "channel"}) == (
        note.model_dump()
    )
    assert stored.channel == "log"
    assert stored.delivered_at is None
    assert before - timedelta(seconds=5) <= stored.recorded_at <= datetime.now(UTC)


async def test_a_notification_without_gate_round_or_recipients_reads_back(
    outbox: NotificationOutbox,
) -> None:
    note = notification(1, kind="stage_entered", gate=None, round=None, recipient_roles=[])
    await outbox.record([note])

    (stored,) = await outbox.list()

    assert (stored.gate, stored.round, stored.recipient_roles) == (None, None, [])


async def test_a_naive_time_is_refused_before_anything_is_written(
    outbox: NotificationOutbox,
) -> None:
    naive = notification(2, occurred_at=datetime(2026, 3, 2, 9, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        await outbox.record([notification(1), naive])
    assert await outbox.list() == []


# -- list -----------------------------------------------------------------------------------


async def test_the_newest_come_first_and_equal_times_order_by_id(
    outbox: NotificationOutbox,
) -> None:
    await outbox.record(
        [
            notification(1),
            notification(2, notification_id="b-tie", occurred_at=T0 + timedelta(hours=1)),
            notification(3),
            notification(4, notification_id="a-tie", occurred_at=T0 + timedelta(hours=1)),
        ]
    )

    assert ids(await outbox.list()) == ["b-tie", "a-tie", "note-0003", "note-0001"]
    assert ids(await outbox.list(limit=2)) == ["b-tie", "a-tie"]


async def test_filters_by_product_kind_and_role_combine(outbox: NotificationOutbox) -> None:
    await outbox.record(
        [
            notification(1, product_id="atlas", kind="approval_requested"),
            notification(2, product_id="atlas", kind="decision", recipient_roles=["finance"]),
            notification(3, product_id="orbit", kind="approval_requested"),
            notification(4, product_id="orbit", kind="reminder", recipient_roles=["finance"]),
        ]
    )

    assert ids(await outbox.list(product_id="atlas")) == ["note-0002", "note-0001"]
    assert ids(await outbox.list(kind="approval_requested")) == ["note-0003", "note-0001"]
    assert ids(await outbox.list(recipient_role="finance")) == ["note-0004", "note-0002"]
    assert ids(await outbox.list(product_id="orbit", recipient_role="finance")) == ["note-0004"]
    assert ids(await outbox.list(product_id="orbit", kind="decision")) == []
    assert await outbox.list(product_id="nothing-here") == []


async def test_an_audience_sees_what_is_addressed_to_its_roles_or_to_it(
    outbox: NotificationOutbox,
) -> None:
    await outbox.record(
        [
            notification(1, recipient_roles=["legal"]),
            notification(2, recipient_roles=["finance", "product-lead"]),
            notification(3, recipient_roles=[], recipient_subjects=["grace"]),
            notification(4, recipient_roles=["exec-sponsor"], recipient_subjects=["linus"]),
        ]
    )
    grace = Audience(subject="grace", roles=("finance", "qa"))

    assert ids(await outbox.list(audience=grace)) == ["note-0003", "note-0002"]
    assert ids(await outbox.list(audience=Audience(subject="nobody"))) == []
    assert ids(await outbox.list(audience=grace, recipient_role="finance")) == ["note-0002"]
    assert ids(await outbox.list(audience=grace, recipient_role="legal")) == []


async def test_pages_continue_before_a_time_or_after_an_exact_notification(
    outbox: NotificationOutbox,
) -> None:
    same_moment = T0 + timedelta(days=1)
    await outbox.record(
        [notification(n) for n in range(3)]
        + [notification(n, occurred_at=same_moment) for n in range(10, 15)]
    )

    assert ids(await outbox.list(before=T0 + timedelta(minutes=2))) == ["note-0001", "note-0000"]
    assert ids(await outbox.list(before=same_moment)) == ["note-0002", "note-0001", "note-0000"]

    pages: list[list[str]] = []
    page = await outbox.list(limit=3)
    while page:
        pages.append(ids(page))
        last = page[-1]
        page = await outbox.list(limit=3, before=last.occurred_at, before_id=last.notification_id)
    assert pages == [
        ["note-0014", "note-0013", "note-0012"],
        ["note-0011", "note-0010", "note-0002"],
        ["note-0001", "note-0000"],
    ]


@pytest.mark.parametrize("limit", [0, -1, 501])
async def test_a_page_is_bounded(outbox: NotificationOutbox, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        await outbox.list(limit=limit)


async def test_the_largest_page_is_allowed(outbox: NotificationOutbox) -> None:
    await outbox.record([notification(n) for n in range(3)])
    assert len(await outbox.list(limit=500)) == 3


async def test_paging_needs_an_aware_time(outbox: NotificationOutbox) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await outbox.list(before=datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="before_id"):
        await outbox.list(before_id="note-0001")


# -- delivery -------------------------------------------------------------------------------


async def test_marking_delivered_stamps_each_notification_once(
    outbox: NotificationOutbox,
) -> None:
    await outbox.record([notification(1), notification(2), notification(3)])
    sent_at = T0 + timedelta(hours=2)

    stamped = await outbox.mark_delivered(["note-0002", "note-0001", "unknown"], sent_at)
    again = await outbox.mark_delivered(["note-0001", "note-0003"], sent_at + timedelta(hours=1))

    assert stamped == ["note-0002", "note-0001"]
    assert again == ["note-0003"]
    delivered = {n.notification_id: n.delivered_at for n in await outbox.list()}
    assert delivered == {
        "note-0001": sent_at,
        "note-0002": sent_at,
        "note-0003": sent_at + timedelta(hours=1),
    }


async def test_marking_nothing_changes_nothing(outbox: NotificationOutbox) -> None:
    await outbox.record([notification(1)])
    assert await outbox.mark_delivered([], T0) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        await outbox.mark_delivered(["note-0001"], datetime(2026, 3, 2))
    assert [n.delivered_at for n in await outbox.list()] == [None]


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM notification_outbox",
        "TRUNCATE notification_outbox",
        "DROP TABLE notification_outbox",
        "ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_pkey",
    ],
)
async def test_the_app_role_cannot_delete_notifications(
    outbox: NotificationOutbox, app_pool: asyncpg.Pool, statement: str
) -> None:
    await outbox.record([notification(1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(statement)
    assert ids(await outbox.list()) == ["note-0001"]
