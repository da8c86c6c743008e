"""The notification outbox: every stakeholder notification, recorded once, marked when sent.

The product workflow derives each notification's id from the event that caused it, so the
outbox can tell a retried activity from a new message: ``record`` inserts only ids it has not
seen (``INSERT ... ON CONFLICT DO NOTHING``) and answers just those. The first content recorded
under an id is kept; a later one with the same id is ignored, not compared.

Delivery is claimed, not just stamped: ``mark_delivered`` sets ``delivered_at`` only where it is
still empty and answers the ids it changed, so of two attempts racing to deliver the same rows
exactly one gets each row. Nothing is deleted (the application role cannot).

Reads are newest first by ``(occurred_at, notification_id)``; ``before`` / ``before_id`` page
through them without skipping notifications that share an ``occurred_at`` (one event often
notifies several roles at the same instant).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.notifications import Notification

__all__ = ["MAX_LIST_LIMIT", "Audience", "NotificationOutbox", "RecordedNotification"]

MAX_LIST_LIMIT = 500
DEFAULT_CHANNEL = "log"


class RecordedNotification(Notification):
    """A notification as the outbox holds it: when it was recorded, and whether (and through
    which channel) it has been delivered."""

    recorded_at: datetime
    delivered_at: datetime | None = None
    channel: str = DEFAULT_CHANNEL


@dataclass(frozen=True)
class Audience:
    """Somebody reading notifications: only those addressed to one of ``roles`` or to
    ``subject`` are theirs."""

    subject: str
    roles: tuple[str, ...] = ()


_COLUMNS = """
notification_id, kind, product_id, product_name, gate, round, recipient_roles,
recipient_subjects, headline, body, occurred_at, recorded_at, delivered_at, channel
"""

# One round trip for the whole batch. Recipient lists travel as JSON arrays: unnest() cannot
# take arrays of arrays of different lengths.
_RECORD = """
INSERT INTO public.notification_outbox (
    notification_id, kind, product_id, product_name, gate, round,
    recipient_roles, recipient_subjects, headline, body, occurred_at
)
SELECT n.notification_id, n.kind, n.product_id, n.product_name, n.gate, n.round,
       ARRAY(SELECT pg_catalog.jsonb_array_elements_text(n.recipient_roles)),
       ARRAY(SELECT pg_catalog.jsonb_array_elements_text(n.recipient_subjects)),
       n.headline, n.body, n.occurred_at
  FROM unnest(
           $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[],
           $7::jsonb[], $8::jsonb[], $9::text[], $10::text[], $11::timestamptz[]
       ) WITH ORDINALITY AS n(
           notification_id, kind, product_id, product_name, gate, round,
           recipient_roles, recipient_subjects, headline, body, occurred_at, ord
       )
 ORDER BY n.ord
ON CONFLICT (notification_id) DO NOTHING
RETURNING notification_id, recorded_at
"""

_MARK_DELIVERED = """
UPDATE public.notification_outbox SET delivered_at = $2
 WHERE notification_id = ANY($1::text[]) AND delivered_at IS NULL
RETURNING notification_id
"""


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _recorded(row: asyncpg.Record) -> RecordedNotification:
    values = dict(row)
    values["recipient_roles"] = list(values["recipient_roles"])
    values["recipient_subjects"] = list(values["recipient_subjects"])
    return RecordedNotification.model_validate(values)


class NotificationOutbox:
    """Stakeholder notifications over an asyncpg pool (the ``lifecycle_app`` role suffices)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, notifications: Sequence[Notification]) -> builtins.list[Notification]:
        """Record notifications; answers the ones that were not recorded before, in the order
        given. Recording an id again (in this call or a later one) adds nothing."""
        batch: dict[str, Notification] = {}
        for notification in notifications:
            _check_aware("occurred_at", notification.occurred_at)
            batch.setdefault(notification.notification_id, notification)
        if not batch:
            return []
        items = builtins.list(batch.values())
        rows = await self._pool.fetch(
            _RECORD,
            [n.notification_id for n in items],
            [n.kind for n in items],
            [n.product_id for n in items],
            [n.product_name for n in items],
            [None if n.gate is None else n.gate.value for n in items],
            [n.round for n in items],
            [json.dumps(n.recipient_roles) for n in items],
            [json.dumps(n.recipient_subjects) for n in items],
            [n.headline for n in items],
            [n.body for n in items],
            [n.occurred_at for n in items],
        )
        new = {row["notification_id"] for row in rows}
        return [n for n in items if n.notification_id in new]

    async def mark_delivered(self, ids: Sequence[str], at: datetime) -> builtins.list[str]:
        """Stamp ``delivered_at`` on those of ``ids`` not yet delivered; answers the ids this
        call stamped (a notification delivered before keeps its first time)."""
        _check_aware("at", at)
        if not ids:
            return []
        rows = await self._pool.fetch(_MARK_DELIVERED, builtins.list(ids), at)
        stamped = {row["notification_id"] for row in rows}
        return [i for i in dict.fromkeys(ids) if i in stamped]

    async def list(
        self,
        product_id: str | None = None,
        kind: str | None = None,
        recipient_role: str | None = None,
        limit: int = 100,
        before: datetime | None = None,
        *,
        before_id: str | None = None,
        audience: Audience | None = None,
    ) -> builtins.list[RecordedNotification]:
        """Notifications newest first (by ``occurred_at``, then ``notification_id``).

        Filters combine with AND: one product, one kind, addressed to one role, visible to an
        ``audience`` (addressed to one of its roles or to its subject). ``before`` keeps only
        notifications that occurred earlier; with ``before_id`` as well it continues after that
        exact notification (pass the last one of the previous page), ties included.
        """
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        if before_id is not None and before is None:
            raise ValueError("before_id continues a page: give before (its occurred_at) too")
        conditions: builtins.list[str] = []
        args: builtins.list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if product_id is not None:
            conditions.append(f"product_id = {arg(product_id)}")
        if kind is not None:
            conditions.append(f"kind = {arg(kind)}")
        if recipient_role is not None:
            conditions.append(f"{arg(recipient_role)} = ANY(recipient_roles)")
        if audience is not None:
            roles, subject = arg(builtins.list(audience.roles)), arg(audience.subject)
            conditions.append(
                f"(recipient_roles && {roles}::text[] OR {subject} = ANY(recipient_subjects))"
            )
        if before is not None:
            _check_aware("before", before)
            at = arg(before)
            if before_id is None:
                conditions.append(f"occurred_at < {at}")
            else:
                conditions.append(f"(occurred_at, notification_id) < ({at}, {arg(before_id)})")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"""
            SELECT {_COLUMNS} FROM public.notification_outbox {where}
             ORDER BY occurred_at DESC, notification_id DESC
             LIMIT {arg(limit)}
        """
        return [_recorded(row) for row in await self._pool.fetch(query, *args)]
