"""The asyncpg event store: append to a stream, read a stream, tail the global log.

All the rules of an append (idempotency, optimistic concurrency, gap-free positions, the hash
chain) live in the SQL function ``append_events()`` so they hold in one round trip and for any
client. This class encodes arguments, computes each event's content digest (the payload half of
the two-level hash, see ``store.hashing``), calls it, and turns its SQLSTATEs into typed errors.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from itertools import repeat
from typing import Any

import asyncpg

from store.errors import EventIdReused, EventStoreError, InvalidEvent, StreamVersionConflict
from store.events import AppendResult, NewEvent, RawEvent, RecordedEvent
from store.hashing import GENESIS_HASH, canonical_json_many, content_digests

_APPEND = """
SELECT first_position, last_position, stream_version_after, already_stored
  FROM public.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

# The same function for the common single event, its one-element arrays built by the server:
# encoding nine arrays on the client and decoding them on the server costs more than the rest of
# the statement, and a second SQL function would duplicate the rules of an append.
_APPEND_ONE = """
SELECT first_position, last_position, stream_version_after, already_stored
  FROM public.append_events($1, $2, ARRAY[$3::uuid], ARRAY[$4::text], ARRAY[$5::integer],
                            ARRAY[$6::text], ARRAY[$7::text], ARRAY[$8::timestamptz],
                            ARRAY[$9::bytea])
"""

# data/metadata are cast to text so a json codec someone registers on the pool cannot change
# what we decode (and what audit hashes).
_COLUMNS = """position, stream_id, stream_version, event_id, type, schema_version,
              data::text AS data, metadata::text AS metadata, recorded_at, prev_hash, hash"""

_READ_STREAM = f"""
SELECT {_COLUMNS} FROM public.events
 WHERE stream_id = $1 AND stream_version > $2
 ORDER BY stream_version
"""

_READ_STREAM_OF_TYPES = f"""
SELECT {_COLUMNS} FROM public.events
 WHERE stream_id = $1 AND stream_version > $2 AND type = ANY($3::text[])
 ORDER BY stream_version
"""

# A page of one stream around a position cursor (positions rise with versions in a stream).
_STREAM_BEFORE = f"""
SELECT {_COLUMNS} FROM public.events
 WHERE stream_id = $1 AND position < $2
 ORDER BY stream_version DESC
 LIMIT $3
"""

_STREAM_AFTER = f"""
SELECT {_COLUMNS} FROM public.events
 WHERE stream_id = $1 AND position > $2
 ORDER BY stream_version
 LIMIT $3
"""

_READ_ALL = f"""
SELECT {_COLUMNS} FROM public.events
 WHERE position > $1
 ORDER BY position
 LIMIT $2
"""

_READ_RAW = """
SELECT position, stream_id, stream_version, data::text FROM public.events
 WHERE position > $1
 ORDER BY position
 LIMIT $2
"""

_STREAM_VERSION = """
SELECT COALESCE(max(stream_version), 0) FROM public.events WHERE stream_id = $1
"""

_HEAD = "SELECT position, hash FROM public.events ORDER BY position DESC LIMIT 1"

_VERSION_CONFLICT = "LC001"
_EVENT_ID_REUSED = "LC002"
_MALFORMED = "LC003"


class EventStore:
    """Append-only, hash-chained event streams over an asyncpg pool.

    Give it a pool from ``create_app_pool`` so the application cannot do more than append and
    read; any pool whose role may call ``append_events()`` and read ``events`` works.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` if it holds exactly ``expected_version`` events.

        Re-appending events already stored (same ids, same content, same stream) returns the
        original result with ``already_stored=True`` whatever ``expected_version`` says.
        """
        statement, args = _encode_append(stream_id, expected_version, events)
        try:
            row = await self._pool.fetchrow(statement, *args)
        except asyncpg.PostgresError as exc:
            translated = _translate(exc, stream_id)
            if translated is None:
                raise
            raise translated from exc
        except UnicodeEncodeError as exc:
            raise InvalidEvent(f"cannot encode events for stream {stream_id!r}: {exc}") from exc
        assert row is not None
        # Built from our own function's typed result: skip pydantic's validation on the hot path.
        return AppendResult.model_construct(
            stream_id=stream_id,
            first_position=row["first_position"],
            last_position=row["last_position"],
            stream_version=row["stream_version_after"],
            already_stored=row["already_stored"],
        )

    async def read_stream(
        self, stream_id: str, after_version: int = 0, *, types: Collection[str] | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with version > ``after_version``, in version order; only those
        of ``types`` when given (filtered by Postgres, so the others are never decoded)."""
        if types is None:
            rows = await self._pool.fetch(_READ_STREAM, stream_id, after_version)
        else:
            rows = await self._pool.fetch(_READ_STREAM_OF_TYPES, stream_id, after_version, types)
        return [_decode(row) for row in rows]

    async def read_stream_page(
        self, stream_id: str, *, before: int | None = None, after: int | None = None, limit: int
    ) -> list[RecordedEvent]:
        """Up to ``limit`` of the stream's events next to a global-log position, in log order:
        the latest below ``before``, or the earliest above ``after``, or (neither) the latest.

        Pages a long stream (the product page's trail) without reading all of it, and by
        position, so a page does not shift while the stream grows."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if before is not None and after is not None:
            raise ValueError("page before a position or after one, not both")
        if after is not None:
            rows = await self._pool.fetch(_STREAM_AFTER, stream_id, after, limit)
            return [_decode(row) for row in rows]
        below = before if before is not None else 2**63 - 1
        rows = await self._pool.fetch(_STREAM_BEFORE, stream_id, below, limit)
        return [_decode(row) for row in reversed(rows)]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events of the global log after ``after_position``, in order.

        Safe to poll with the last position seen: positions are gap-free and assigned in commit
        order, so nothing can later appear behind a position already returned.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = await self._pool.fetch(_READ_ALL, after_position, limit)
        return [_decode(row) for row in rows]

    async def read_raw(self, after_position: int = 0, limit: int = 1000) -> list[RawEvent]:
        """``read_all`` for replays that parse the JSON text themselves: the same events in the
        same order, each only its place and its stored data text."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = await self._pool.fetch(_READ_RAW, after_position, limit)
        return [RawEvent(*row) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        """Number of events in the stream (0 if it does not exist)."""
        version = await self._pool.fetchval(_STREAM_VERSION, stream_id)
        return int(version)

    async def head(self) -> tuple[int, str]:
        """(last position, its hash): the digest an auditor keeps; (0, GENESIS_HASH) if empty."""
        row = await self._pool.fetchrow(_HEAD)
        if row is None:
            return 0, GENESIS_HASH
        return int(row["position"]), str(row["hash"])


def _encode_append(
    stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> tuple[str, tuple[Any, ...]]:
    """The statement and its arguments for appending ``events``; refuses what the database
    would refuse anyway, before the round trip."""
    if not stream_id:
        raise InvalidEvent("stream_id must not be empty")
    if expected_version < 0:
        raise InvalidEvent(f"expected_version must be >= 0, got {expected_version}")
    if not events:
        raise InvalidEvent(f"nothing to append to stream {stream_id!r}")
    try:
        if len(events) == 1:
            return _APPEND_ONE, (stream_id, expected_version, *_encode_one(stream_id, events[0]))
        ids = [event.event_id for event in events]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1}, key=str)
            raise EventIdReused(repeated, "the same id appears twice in one batch")
        types = [event.type for event in events]
        schema_versions = [event.schema_version for event in events]
        data = canonical_json_many([event.data for event in events])
        metadata = canonical_json_many([event.metadata for event in events])
        recorded_at = [event.recorded_at for event in events]
        digests = content_digests(
            zip(repeat(stream_id), ids, types, schema_versions, data, metadata, recorded_at)
        )
    except UnicodeEncodeError as exc:
        raise InvalidEvent(f"cannot encode events for stream {stream_id!r}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"event data is not plain JSON: {exc}") from exc
    columns = (ids, types, schema_versions, data, metadata, recorded_at, digests)
    return _APPEND, (stream_id, expected_version, *columns)


def _encode_one(stream_id: str, event: NewEvent) -> tuple[Any, ...]:
    """One event's columns, in ``append_events()`` order, its content digest last."""
    data, metadata = canonical_json_many((event.data, event.metadata))
    fields = (
        stream_id,
        event.event_id,
        event.type,
        event.schema_version,
        data,
        metadata,
        event.recorded_at,
    )
    return (*fields[1:], content_digests((fields,))[0])


def _translate(exc: asyncpg.PostgresError, stream_id: str) -> EventStoreError | None:
    code = exc.sqlstate
    if code == _MALFORMED or isinstance(exc, asyncpg.DataError):
        return InvalidEvent(f"cannot append to stream {stream_id!r}: {exc}")
    if code not in (_VERSION_CONFLICT, _EVENT_ID_REUSED):
        return None
    detail: dict[str, Any] = json.loads(getattr(exc, "detail", None) or "{}")
    if code == _VERSION_CONFLICT:
        return StreamVersionConflict(
            detail["stream_id"], detail["expected_version"], detail["actual_version"]
        )
    ids = [uuid.UUID(value) for value in detail.get("event_ids", [])]
    return EventIdReused(ids, detail.get("reason", "already used"))


def _decode(row: asyncpg.Record) -> RecordedEvent:
    # Rows come from our own table with checked types; skip re-validating every field.
    return RecordedEvent.model_construct(
        position=row["position"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        type=row["type"],
        schema_version=row["schema_version"],
        data=json.loads(row["data"]),
        metadata=json.loads(row["metadata"]),
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


__all__ = ["EventStore", "EventStoreError"]
