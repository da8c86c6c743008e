"""Test data for the event store: events with sensible defaults, overridable per test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from store.events import NewEvent

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def new_event(n: int = 0, **overrides: Any) -> NewEvent:
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "type": "EvidenceSubmitted",
        "schema_version": 1,
        "data": {"n": n, "title": f"evidence {n}"},
        "metadata": {"actor": "pm@example.com"},
        "recorded_at": T0 + timedelta(seconds=n),
    }
    fields.update(overrides)
    return NewEvent(**fields)


def new_events(count: int, start: int = 0) -> list[NewEvent]:
    return [new_event(start + i) for i in range(count)]
