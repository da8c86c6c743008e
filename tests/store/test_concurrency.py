"""Many writers at once: one winner per version, and followers never skip an event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from store.errors import StreamVersionConflict
from store.event_store import EventStore
from store.migrations import create_app_pool
from tests.store.factories import new_event

WRITERS = 20


@pytest_asyncio.fixture(loop_scope="session")
async def wide_store(database_dsn: str) -> AsyncIterator[EventStore]:
    """A pool with a connection per writer, so the writers really race in the database."""
    pool = await create_app_pool(database_dsn, min_size=WRITERS, max_size=WRITERS + 2)
    try:
        yield EventStore(pool)
    finally:
        await pool.close()


async def test_concurrent_writers_at_the_same_version_exactly_one_wins(
    wide_store: EventStore,
) -> None:
    start = asyncio.Event()

    async def writer(n: int) -> bool:
        await start.wait()
        try:
            await wide_store.append("contested", 0, [new_event(n)])
        except StreamVersionConflict:
            return False
        return True

    tasks = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
    start.set()
    outcomes = await asyncio.gather(*tasks)

    assert outcomes.count(True) == 1
    assert await wide_store.stream_version("contested") == 1
    assert len(await wide_store.read_all()) == 1


async def test_racing_writers_each_version_has_exactly_one_author(
    wide_store: EventStore,
) -> None:
    """Writers keep reading the version and trying to append; every version gets one event."""
    target = 60
    wins: dict[int, list[int]] = {n: [] for n in range(WRITERS)}
    conflicts = 0

    async def writer(n: int) -> None:
        nonlocal conflicts
        while True:
            version = await wide_store.stream_version("race")
            if version >= target:
                return
            event = new_event(n * 1000 + version, data={"writer": n, "at": version})
            try:
                result = await wide_store.append("race", version, [event])
            except StreamVersionConflict:
                conflicts += 1
                continue
            wins[n].append(result.stream_version)

    await asyncio.gather(*(writer(n) for n in range(WRITERS)))

    events = await wide_store.read_stream("race")
    won_versions = sorted(v for versions in wins.values() for v in versions)
    assert [e.stream_version for e in events] == list(range(1, len(events) + 1))
    assert won_versions == [e.stream_version for e in events]
    for event in events:
        assert event.stream_version in wins[event.data["writer"]]
        assert event.data["at"] == event.stream_version - 1
    assert conflicts > 0  # they really did race


async def test_tailing_reader_never_misses_or_repeats_an_event(
    wide_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    """Positions are handed out in commit order: polling ``after_position`` is complete."""
    follower = EventStore(app_pool)
    streams, per_stream, batch = 16, 12, 3
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(s: int) -> None:
        for version in range(0, per_stream, batch):
            events = [new_event(s * 100 + version + k) for k in range(batch)]
            await wide_store.append(f"stream-{s}", version, events)

    async def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            page = await follower.read_all(after_position=last, limit=7)
            for event in page:
                seen.append(event.position)
                assert event.position == last + 1, "the follower skipped ahead"
                last = event.position
            if finished and not page:
                return
            if not page:
                await asyncio.sleep(0)

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(writer(s) for s in range(streams)))
    done.set()
    await reader

    log = [e.position for e in await wide_store.read_all(limit=10_000)]
    assert len(log) == streams * per_stream
    assert log == list(range(1, len(log) + 1))
    assert sorted(set(seen)) == log, "missed events"
    assert len(seen) == len(set(seen)), "duplicates"


@pytest.mark.parametrize("replays", [8])
async def test_concurrent_replays_of_one_batch_store_it_once(
    wide_store: EventStore, replays: int
) -> None:
    batch = [new_event(n) for n in range(4)]
    results = await asyncio.gather(
        *(wide_store.append("retried", 0, batch) for _ in range(replays))
    )
    assert sorted(r.already_stored for r in results) == [False] + [True] * (replays - 1)
    assert {(r.first_position, r.last_position, r.stream_version) for r in results} == {(1, 4, 4)}
    assert len(await wide_store.read_all()) == 4
