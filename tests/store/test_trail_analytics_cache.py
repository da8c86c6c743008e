"""The portfolio figures' cache: the log is read again only when its head position moved."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from store.event_store import EventStore
from store.trail import UnreadableEvent
from store.trail_analytics import AnalyticsCache
from tests.store.factories import T0, new_event


async def test_the_same_head_serves_the_same_figures_and_a_new_event_is_read_alone(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    cache = AnalyticsCache()
    await event_store.append("product-atlas", 0, [new_event(1)])

    first = await cache.current(app_pool, T0)
    again = await cache.current(app_pool, T0)
    assert again is first
    assert (cache.reads, cache.events_read) == (1, 1)

    await event_store.append("audit-notes", 0, [new_event(2)])  # any stream moves the head
    await cache.current(app_pool, T0)
    assert (cache.reads, cache.events_read) == (2, 1)  # not a product's event: nothing to fold

    await event_store.append("product-atlas", 1, [new_event(3), new_event(4)])
    await cache.current(app_pool, T0)
    assert (cache.reads, cache.events_read) == (3, 3)


async def test_page_loads_at_the_same_moment_share_one_scan(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    cache = AnalyticsCache()
    await event_store.append("product-atlas", 0, [new_event(1), new_event(2)])

    figures = await asyncio.gather(*(cache.current(app_pool, T0) for _ in range(5)))

    assert (cache.reads, cache.events_read) == (1, 2)
    assert all(f is figures[0] for f in figures)


async def test_an_unreadable_event_is_refused_every_time_and_nothing_half_read_is_kept(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    cache = AnalyticsCache(batch_size=2)
    await event_store.append("product-atlas", 0, [new_event(1), new_event(2), new_event(3)])
    await event_store.append("product-atlas", 3, [new_event(4, type="StageEntered")])

    for _ in range(2):
        with pytest.raises(UnreadableEvent) as refused:
            await cache.current(app_pool, T0)
        assert refused.value.position == 4
    assert (cache.reads, cache.events_read) == (0, 0)
