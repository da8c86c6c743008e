"""Dead letters: notification deliveries that were refused or ran out of retries.

Both tables only grow (see migration 0006). Recording is idempotent on the dead letter's id,
which the delivery workflow derives deterministically, so a retried recording adds nothing.
A dead letter is replayed at most once: the replay row's primary key is the dead letter's id,
and ``record_replay`` answers the replay that holds it, this one or an earlier one.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.notifications import Notification

__all__ = ["MAX_LIST_LIMIT", "DeadLetter", "DeadLetterStore", "RecordedDeadLetter", "Replay"]

MAX_LIST_LIMIT = 500


class DeadLetter(BaseModel):
    """A delivery that will not happen by itself: kept to be looked at and replayed.

    ``retry`` holds the delivery's retry settings as the delivery workflow had them; the store
    keeps them as given and leaves their meaning to the workflow that replays them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dead_letter_id: str
    delivery_id: str
    workflow_id: str
    endpoint: str
    notification: Notification
    retry: dict[str, Any] = {}
    reason: Literal["attempts_exhausted", "rejected", "failed"]
    error: str
    error_type: str | None = None
    failed_at: datetime
    replay_of: str | None = None


class Replay(BaseModel):
    model_config = ConfigDict(frozen=True)

    dead_letter_id: str
    workflow_id: str
    replayed_by: str
    replayed_at: datetime


class RecordedDeadLetter(DeadLetter):
    """A dead letter as stored, with its replay once somebody started one."""

    recorded_at: datetime
    replay: Replay | None = None


_RECORD = """
INSERT INTO public.notification_dead_letters (
    dead_letter_id, delivery_id, workflow_id, endpoint, notification_id, product_id, kind,
    reason, error, error_type, failed_at, replay_of, delivery
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)
ON CONFLICT (dead_letter_id) DO NOTHING
RETURNING dead_letter_id
"""

_SELECT = """
SELECT d.delivery::text AS delivery, d.recorded_at,
       r.dead_letter_id AS replayed_id, r.workflow_id AS replay_workflow_id,
       r.replayed_by, r.replayed_at
  FROM public.notification_dead_letters d
  LEFT JOIN public.notification_replays r USING (dead_letter_id)
"""

_RECORD_REPLAY = """
INSERT INTO public.notification_replays (dead_letter_id, workflow_id, replayed_by, replayed_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (dead_letter_id) DO NOTHING
"""


def _recorded(row: asyncpg.Record) -> RecordedDeadLetter:
    letter = DeadLetter.model_validate_json(row["delivery"])
    replay = (
        Replay(
            dead_letter_id=row["replayed_id"],
            workflow_id=row["replay_workflow_id"],
            replayed_by=row["replayed_by"],
            replayed_at=row["replayed_at"],
        )
        if row["replayed_id"] is not None
        else None
    )
    return RecordedDeadLetter(**letter.model_dump(), recorded_at=row["recorded_at"], replay=replay)


class DeadLetterStore:
    """Over an asyncpg pool; the ``lifecycle_app`` role suffices."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, letter: DeadLetter) -> bool:
        """Keep a dead letter; answers False when its id was recorded before."""
        if letter.failed_at.utcoffset() is None:
            raise ValueError("failed_at must be timezone-aware")
        row = await self._pool.fetchrow(
            _RECORD,
            letter.dead_letter_id,
            letter.delivery_id,
            letter.workflow_id,
            letter.endpoint,
            letter.notification.notification_id,
            letter.notification.product_id,
            letter.notification.kind,
            letter.reason,
            letter.error,
            letter.error_type,
            letter.failed_at,
            letter.replay_of,
            letter.model_dump_json(),
        )
        return row is not None

    async def get(self, dead_letter_id: str) -> RecordedDeadLetter | None:
        row = await self._pool.fetchrow(f"{_SELECT} WHERE d.dead_letter_id = $1", dead_letter_id)
        return None if row is None else _recorded(row)

    async def list(
        self, *, include_replayed: bool = False, limit: int = 100
    ) -> builtins.list[RecordedDeadLetter]:
        """Newest failure first; by default only those nobody has replayed yet."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        where = "" if include_replayed else "WHERE r.dead_letter_id IS NULL"
        rows = await self._pool.fetch(
            f"{_SELECT} {where} ORDER BY d.failed_at DESC, d.dead_letter_id DESC LIMIT $1", limit
        )
        return [_recorded(row) for row in rows]

    async def record_replay(
        self, dead_letter_id: str, workflow_id: str, by: str, at: datetime
    ) -> Replay:
        """Note that a dead letter was replayed; answers the replay on record (an earlier one
        if the dead letter had been replayed before)."""
        if at.utcoffset() is None:
            raise ValueError("at must be timezone-aware")
        async with self._pool.acquire() as conn:
            await conn.execute(_RECORD_REPLAY, dead_letter_id, workflow_id, by, at)
            row = await conn.fetchrow(
                "SELECT dead_letter_id, workflow_id, replayed_by, replayed_at "
                "FROM public.notification_replays WHERE dead_letter_id = $1",
                dead_letter_id,
            )
        assert row is not None
        return Replay.model_validate(dict(row))
