"""Fixtures of the store tests: the database owner's connection and a small log to tamper with."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from store.event_store import EventStore
from tests.store.factories import new_events
from tests.store.tampering import LOG_SIZE


@pytest_asyncio.fixture(loop_scope="session")
async def owner(database_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def filled(event_store: EventStore) -> EventStore:
    """30 events over three streams, appended in batches of various sizes."""
    versions = {"a": 0, "b": 0, "c": 0}
    written = 0
    for round_ in range(10):
        for stream in ("a", "b", "c"):
            size = (round_ + len(stream)) % 3 + 1
            size = min(size, LOG_SIZE - written)
            if size == 0:
                continue
            await event_store.append(stream, versions[stream], new_events(size, start=written))
            versions[stream] += size
            written += size
    assert written == LOG_SIZE
    return event_store
