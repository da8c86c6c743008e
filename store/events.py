"""The event store's data shapes: what a writer hands in and what a reader gets back.

``recorded_at`` is hashed, so it must be the caller's clock (workflow time) and is normalised to
UTC here; Postgres keeps microseconds, which is also Python's resolution, so the value survives
the round trip exactly.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class NewEvent(BaseModel):
    """An event a writer wants appended. Its ``event_id`` should be deterministic (e.g.
    ``workflow.uuid4()``) so that a retried append is recognised as the same event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str = Field(min_length=1)
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    recorded_at: AwareDatetime

    _utc = field_validator("recorded_at")(_to_utc)


class RecordedEvent(BaseModel):
    """An event as stored: its place in the global log and in its stream, and its chain link."""

    model_config = ConfigDict(frozen=True)

    position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: AwareDatetime
    prev_hash: str
    hash: str

    _utc = field_validator("recorded_at")(_to_utc)


class RawEvent(NamedTuple):
    """An event as stored, for replays that parse its JSON text themselves (a projection
    rebuild reads every event of the log): no dict, no model, no metadata."""

    position: int
    stream_id: str
    stream_version: int
    data: str  # the stored JSON text


class AppendResult(BaseModel):
    """Where an append landed. For an idempotent replay (``already_stored=True``) these are the
    positions and stream version from the original append, so a retry learns the same answer."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    first_position: int
    last_position: int
    stream_version: int
    already_stored: bool
