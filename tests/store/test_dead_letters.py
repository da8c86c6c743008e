"""Dead letters against a real Postgres, acting as the application role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from store.dead_letters import DeadLetter, DeadLetterStore
from tests.store.test_notification_outbox import notification

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def dead_letter(n: int = 0, **overrides: Any) -> DeadLetter:
    fields: dict[str, Any] = {
        "dead_letter_id": f"{n:032x}",
        "delivery_id": f"msg_{n:032x}",
        "workflow_id": f"notification-delivery-msg_{n:032x}",
        "endpoint": "pm-portal",
        "notification": notification(n),
        "retry": {"maximum_attempts": 3},
        "reason": "attempts_exhausted",
        "error": "webhook pm-portal answered 500",
        "error_type": "EndpointUnavailable",
        "failed_at": T0 + timedelta(minutes=n),
    }
    fields.update(overrides)
    return DeadLetter(**fields)


@pytest.fixture
def store(app_pool: asyncpg.Pool) -> DeadLetterStore:
    return DeadLetterStore(app_pool)


async def test_recording_a_dead_letter_twice_keeps_it_once(
    store: DeadLetterStore, app_pool: asyncpg.Pool
) -> None:
    letter = dead_letter(1)

    assert await store.record(letter) is True
    assert await store.record(letter) is False

    assert await app_pool.fetchval("SELECT count(*) FROM notification_dead_letters") == 1
    stored = await store.get(letter.dead_letter_id)
    assert stored is not None
    assert stored.notification == letter.notification
    assert stored.retry == {"maximum_attempts": 3}
    assert stored.replay is None


async def test_dead_letters_are_listed_newest_first_and_replayed_ones_only_on_request(
    store: DeadLetterStore,
) -> None:
    for n in (1, 2, 3):
        await store.record(dead_letter(n))
    await store.record_replay(f"{2:032x}", "wf-replay", "ann", T0 + timedelta(hours=1))

    pending = await store.list()
    everything = await store.list(include_replayed=True)

    assert [d.dead_letter_id for d in pending] == [f"{3:032x}", f"{1:032x}"]
    assert [d.dead_letter_id for d in everything] == [f"{n:032x}" for n in (3, 2, 1)]
    assert everything[1].replay is not None
    assert everything[1].replay.replayed_by == "ann"


async def test_a_second_replay_answers_the_first_one(store: DeadLetterStore) -> None:
    await store.record(dead_letter(1))

    first = await store.record_replay(f"{1:032x}", "wf-a", "ann", T0)
    second = await store.record_replay(f"{1:032x}", "wf-b", "bob", T0 + timedelta(minutes=5))

    assert second == first
    assert (second.workflow_id, second.replayed_by) == ("wf-a", "ann")


async def test_a_replay_of_an_unknown_dead_letter_is_refused_by_the_database(
    store: DeadLetterStore,
) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await store.record_replay(f"{9:032x}", "wf", "ann", T0)


async def test_a_dead_letter_needs_an_aware_failure_time(store: DeadLetterStore) -> None:
    with pytest.raises(ValueError, match="failed_at must be timezone-aware"):
        await store.record(dead_letter(1, failed_at=datetime(2026, 3, 2, 9, 30)))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE notification_dead_letters SET error = 'hidden'",
        "DELETE FROM notification_dead_letters",
        "UPDATE notification_replays SET replayed_by = 'someone else'",
        "DELETE FROM notification_replays",
        "TRUNCATE notification_dead_letters CASCADE",
    ],
)
async def test_the_app_role_can_neither_rewrite_nor_remove_dead_letters_or_replays(
    store: DeadLetterStore, app_pool: asyncpg.Pool, statement: str
) -> None:
    await store.record(dead_letter(1))
    await store.record_replay(f"{1:032x}", "wf", "ann", T0)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(statement)

    (stored,) = await store.list(include_replayed=True)
    assert stored.error == "webhook pm-portal answered 500"
    assert stored.replay is not None
