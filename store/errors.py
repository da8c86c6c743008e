"""Typed refusals from the event store.

Callers (the append activity above all) decide between "retry", "reload and re-decide" and "this
is a bug" by exception type, so each refusal gets its own class carrying the facts as attributes
as well as in the message. ``__reduce__`` keeps them picklable despite the custom constructors.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any


class EventStoreError(Exception):
    """Base class for every refusal the event store raises on purpose."""


class StreamVersionConflict(EventStoreError):
    """The writer's idea of the stream's version is stale (or ahead); nothing was written."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r}: expected version {expected_version}, "
            f"but the stream is at version {actual_version}; nothing was written"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.stream_id, self.expected_version, self.actual_version))


class EventIdReused(EventStoreError):
    """An event id is already stored with other content, or a batch only partly matches what is
    stored; nothing was written. A true replay of stored events is not an error."""

    def __init__(self, event_ids: Sequence[uuid.UUID], reason: str) -> None:
        ids = ", ".join(str(event_id) for event_id in event_ids)
        super().__init__(f"event id(s) already used: {ids} ({reason}); nothing was written")
        self.event_ids = tuple(event_ids)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.event_ids, self.reason))


class InvalidEvent(EventStoreError, ValueError):
    """The append request itself is malformed (empty batch, non-JSON data, bad stream id...)."""
