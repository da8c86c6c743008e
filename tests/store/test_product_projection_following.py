"""How the product read model follows the log: every event applied exactly once, however many
projectors race; a rebuild equal to the incremental result; streams it does not follow
skipped; an event it cannot fold stopping it right before; the runner outliving failures."""

from __future__ import annotations

import asyncio
import logging
import pickle
import uuid
from typing import Any

import asyncpg
import pytest

from store.event_store import EventStore
from store.events import NewEvent, RawEvent, RecordedEvent
from store.migrations import create_app_pool
from store.projections import ProductProjection, ProjectionError
from tests.store.projection_story import (
    GRACE,
    T0,
    Portfolio,
    new_id,
    portfolio,
    product_event_count,
    projected_rows,
    projection,
    three_products,
)

__all__ = ["portfolio", "projection"]


# -- exactly once -------------------------------------------------------------------------------


async def test_catching_up_again_applies_nothing_and_then_only_what_is_new(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await three_products(portfolio)
    await projection.catch_up(batch_size=4)
    head, _ = await event_store.head()

    assert await projection.catch_up() == 0
    assert await projection.checkpoint() == head

    await portfolio.register("delta")
    assert await projection.catch_up() == portfolio.states["delta"].version
    assert await projection.get_state("delta") == portfolio.states["delta"]


async def test_concurrent_projectors_apply_every_event_exactly_once(
    portfolio: Portfolio, app_pool: asyncpg.Pool, event_store: EventStore, database_dsn: str
) -> None:
    await three_products(portfolio)
    await portfolio.register("omega")
    await portfolio.retire("omega")
    # Separate pools: each projector has its own connections, as separate API processes would.
    pools = [await create_app_pool(database_dsn, min_size=1, max_size=2) for _ in range(3)]
    try:
        projectors = [ProductProjection(p, EventStore(p)) for p in (app_pool, *pools)]

        applied = await asyncio.gather(*(p.catch_up(batch_size=3) for p in projectors))
    finally:
        for pool in pools:
            await pool.close()

    head, _ = await event_store.head()
    assert sum(applied) == await product_event_count(event_store)
    assert await projectors[0].checkpoint() == head
    for product_id, state in portfolio.states.items():
        assert await projectors[0].get_state(product_id) == state


async def test_concurrent_projectors_racing_new_appends_still_apply_each_event_once(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")

    async def keep_appending() -> None:
        for n in range(6):
            await portfolio.register(f"p{n}")
            await portfolio.append_other(f"other-{n}")

    async def keep_projecting() -> int:
        total = 0
        for _ in range(10):
            total += await projection.catch_up(batch_size=2)
            await asyncio.sleep(0)
        return total

    results = await asyncio.gather(keep_appending(), keep_projecting(), keep_projecting())
    final = await projection.catch_up()

    assert sum(results[1:]) + final == await product_event_count(event_store)
    assert await projection.checkpoint() == (await event_store.head())[0]
    for product_id, state in portfolio.states.items():
        assert await projection.get_state(product_id) == state


async def test_a_rebuild_ends_identical_to_incremental_catch_up(
    portfolio: Portfolio, projection: ProductProjection, database_dsn: str
) -> None:
    await portfolio.register("alpha")
    await projection.catch_up()
    await portfolio.register("beta", owner=GRACE)
    await portfolio.append_other("audit-1", 3)
    await portfolio.pass_gate("beta")
    await projection.catch_up(batch_size=2)
    await portfolio.request_review("beta")
    await portfolio.register("gamma")
    await portfolio.kill("gamma")
    await projection.catch_up(batch_size=5)
    incremental = await projected_rows(database_dsn)
    checkpoint = await projection.checkpoint()

    applied = await projection.rebuild()

    assert await projected_rows(database_dsn) == incremental
    assert await projection.checkpoint() == checkpoint
    assert applied == sum(state.version for state in portfolio.states.values())


async def test_a_rebuild_forgets_rows_no_event_supports(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await portfolio.register("alpha")
    await projection.catch_up()
    await app_pool.execute(
        "UPDATE product_states SET name = 'tampered'; "
        "INSERT INTO product_states SELECT 'ghost', name, owner, owner_name, stage, status, "
        "playbook_name, playbook_version, review_open, state, registered_at, stage_entered_at, "
        "last_position FROM product_states"
    )

    await projection.rebuild()

    assert [s.product_id for s in await projection.list_products()] == ["alpha"]
    assert (await projection.list_products())[0].name == "Product alpha"


# -- streams it does not follow, events it cannot fold ------------------------------------------


async def test_other_streams_are_skipped_but_advance_the_checkpoint(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.append_other("user-ada", 2)
    await portfolio.register("alpha")
    await portfolio.append_other("products-report")  # similar prefix, not a product stream
    await portfolio.append_other("notification-1", 3)

    applied = await projection.catch_up(batch_size=2)

    assert applied == portfolio.states["alpha"].version
    assert await projection.checkpoint() == (await event_store.head())[0]
    assert [s.product_id for s in await projection.list_products()] == ["alpha"]


async def test_a_log_of_only_other_streams_moves_the_checkpoint_and_applies_nothing(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await portfolio.append_other("user-ada", 4)

    assert await projection.catch_up(batch_size=3) == 0
    assert await projection.checkpoint() == 4


async def _append_raw(store: EventStore, stream_id: str, data: dict[str, Any]) -> RecordedEvent:
    version = await store.stream_version(stream_id)
    event = NewEvent(
        event_id=uuid.uuid4(), type="Broken", schema_version=1, data=data, recorded_at=T0
    )
    result = await store.append(stream_id, version, [event])
    [recorded] = await store.read_all(result.last_position - 1, 1)
    return recorded


async def test_an_event_that_cannot_be_parsed_stops_the_projection_right_before_it(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")
    bad = await _append_raw(event_store, "product-alpha", {"type": "Nonsense"})
    await portfolio.register("beta")

    for _ in range(2):  # and again: a poison event is never skipped
        with pytest.raises(ProjectionError, match="not a product event") as stopped:
            await projection.catch_up()
        assert (stopped.value.position, stopped.value.stream_id) == (bad.position, bad.stream_id)
        assert await projection.checkpoint() == bad.position - 1

    assert await projection.get_state("alpha") == portfolio.states["alpha"]
    assert await projection.get_state("beta") is None


async def test_a_product_stream_not_starting_with_registration_is_refused(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")
    [registered] = await event_store.read_stream("product-alpha", 0)
    data = {**registered.data, "product_id": "beta", "type": "ChecklistItemCompleted"}
    data = {k: data[k] for k in ("event_id", "product_id", "occurred_at", "actor", "type")}
    await _append_raw(
        event_store, "product-beta", {**data, "gate": "discovery", "item": "x", "note": ""}
    )

    with pytest.raises(ProjectionError, match="ChecklistItemCompleted cannot be folded"):
        await projection.catch_up()
    assert await projection.get_state("beta") is None


async def test_an_event_about_another_product_than_its_stream_is_refused(
    projection: ProductProjection, event_store: EventStore
) -> None:
    other = Portfolio(event_store)
    await other.register("alpha")
    [registered] = await event_store.read_stream("product-alpha", 0)
    await _append_raw(event_store, "product-beta", registered.data | {"event_id": new_id()})

    with pytest.raises(ProjectionError, match="event is about product 'alpha'"):
        await projection.catch_up()


# -- running in the background ------------------------------------------------------------------


async def _wait_for(projection: ProductProjection, position: int) -> None:
    async with asyncio.timeout(10):
        # The checkpoint lives in Postgres; polling it is the only way to observe it.
        while await projection.checkpoint() < position:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_the_runner_follows_the_log_until_cancelled(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    runner = asyncio.create_task(projection.run(poll_interval=0.01))
    try:
        await portfolio.register("alpha")
        await _wait_for(projection, (await event_store.head())[0])
        await portfolio.register("beta")
        await _wait_for(projection, (await event_store.head())[0])
    finally:
        runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner

    assert [s.product_id for s in await projection.list_products()] == ["alpha", "beta"]


class FlakyEventStore(EventStore):
    """Loses its connection on the first reads, as during a database restart."""

    def __init__(self, pool: asyncpg.Pool, failures: int) -> None:
        super().__init__(pool)
        self.failures = failures

    async def read_raw(self, after_position: int = 0, limit: int = 1000) -> list[RawEvent]:
        if self.failures > 0:
            self.failures -= 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        return await super().read_raw(after_position, limit)


async def test_the_runner_outlives_a_lost_connection_and_says_so(
    portfolio: Portfolio,
    app_pool: asyncpg.Pool,
    event_store: EventStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await portfolio.register("alpha")
    flaky = FlakyEventStore(app_pool, failures=3)
    projection = ProductProjection(app_pool, flaky)

    with caplog.at_level(logging.WARNING, logger="store.projections"):
        runner = asyncio.create_task(projection.run(poll_interval=0.01))
        try:
            await _wait_for(projection, (await event_store.head())[0])
        finally:
            runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner

    assert flaky.failures == 0
    failures = [r for r in caplog.records if "product projection failed" in r.getMessage()]
    assert len(failures) == 3
    assert await projection.get_state("alpha") == portfolio.states["alpha"]


def test_a_projection_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ProjectionError(7, "product-x", "bad")))

    assert (error.position, error.stream_id, error.problem) == (7, "product-x", "bad")
    assert str(error) == "cannot project event at position 7 (product-x): bad"
