"""A rebuild folded in several processes ends exactly where a one-process rebuild ends: the same
rows, the same checkpoint, the same stop at an event that cannot be folded; meanwhile other
projectors fold nothing, and what is appended meanwhile is caught up afterwards."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from store.dsn import with_user
from store.event_store import EventStore
from store.events import NewEvent
from store.migrations import APP_ROLE
from store.projection_checkpoint import REBUILDING, RebuildInProgress, mark_rebuilding
from store.projection_rebuild import RebuildTakenOver, fold_streams
from store.projections import ProductProjection, ProjectionError
from tests.store.projection_story import (
    GRACE,
    T0,
    Portfolio,
    portfolio,
    projected_rows,
    projection,
)

__all__ = ["portfolio", "projection"]


@pytest.fixture
def app_dsn(database_dsn: str) -> str:
    return with_user(database_dsn, APP_ROLE)


async def a_busy_portfolio(portfolio: Portfolio) -> None:
    """Products at every kind of moment, with other streams in between."""
    for product_id in ("alpha", "gamma", "delta", "epsilon"):
        await portfolio.register(product_id)
    await portfolio.register("beta", owner=GRACE)
    await portfolio.append_other("audit-1", 3)
    await portfolio.pass_gate("beta")
    await portfolio.request_review("alpha")
    await portfolio.kill("gamma")
    await portfolio.retire("delta")


async def test_a_rebuild_in_three_processes_ends_identical_to_a_rebuild_in_one(
    portfolio: Portfolio, projection: ProductProjection, database_dsn: str, app_dsn: str
) -> None:
    await a_busy_portfolio(portfolio)
    in_one = await projection.rebuild()
    rows_in_one = await projected_rows(database_dsn)
    checkpoint_in_one = await projection.checkpoint()

    in_three = await projection.rebuild(workers=3, database_url=app_dsn)

    assert in_three == in_one == sum(state.version for state in portfolio.states.values())
    assert await projected_rows(database_dsn) == rows_in_one
    assert await projection.checkpoint() == checkpoint_in_one
    for product_id, state in portfolio.states.items():
        assert await projection.get_state(product_id) == state


async def test_an_event_that_cannot_be_folded_stops_it_where_a_one_process_rebuild_stops(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore, app_dsn: str
) -> None:
    await a_busy_portfolio(portfolio)
    version = await event_store.stream_version("product-beta")
    broken = NewEvent(
        event_id=uuid.uuid4(), type="Nonsense", schema_version=1, data={}, recorded_at=T0
    )
    bad = await event_store.append("product-beta", version, [broken])
    await portfolio.register("zeta")

    with pytest.raises(ProjectionError, match="not a product event") as stopped:
        await projection.rebuild(workers=2, database_url=app_dsn)

    assert stopped.value.position == bad.first_position
    assert await projection.checkpoint() == bad.first_position - 1
    assert await projection.get_state("alpha") == portfolio.states["alpha"]
    assert await projection.get_state("zeta") is None


async def test_while_a_parallel_rebuild_owns_the_rows_other_projectors_fold_nothing(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await a_busy_portfolio(portfolio)
    await projection.catch_up()
    before = await projection.checkpoint()
    async with app_pool.acquire() as conn:  # what a rebuild's first transaction leaves
        await mark_rebuilding(conn, ProductProjection.NAME, uuid.uuid4())
    await portfolio.register("zeta")

    assert await projection.catch_up() == 0
    assert await projection.checkpoint() == REBUILDING
    assert await projection.get_state("zeta") is None
    assert before > 0


async def test_what_is_appended_after_the_shares_began_is_caught_up_at_the_end(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore, app_dsn: str
) -> None:
    await a_busy_portfolio(portfolio)
    rebuild = asyncio.ensure_future(projection.rebuild(workers=2, database_url=app_dsn))
    await portfolio.register("zeta")
    await portfolio.pass_gate("zeta")
    await rebuild

    assert await projection.checkpoint() == (await event_store.head())[0]
    assert await projection.get_state("zeta") == portfolio.states["zeta"]


@pytest.mark.parametrize("workers", [0, -1])
async def test_a_rebuild_needs_at_least_one_worker(
    projection: ProductProjection, workers: int
) -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        await projection.rebuild(workers=workers)


async def test_a_rebuild_in_several_processes_needs_the_database_address(
    projection: ProductProjection,
) -> None:
    with pytest.raises(ValueError, match="needs the database_url"):
        await projection.rebuild(workers=2)


async def test_a_rebuild_refuses_to_start_while_another_owns_the_rows_unless_forced(
    portfolio: Portfolio,
    projection: ProductProjection,
    app_pool: asyncpg.Pool,
    database_dsn: str,
    app_dsn: str,
) -> None:
    await a_busy_portfolio(portfolio)
    abandoned = uuid.uuid4()
    async with app_pool.acquire() as conn:
        await mark_rebuilding(conn, ProductProjection.NAME, abandoned)

    for workers in (1, 2):
        with pytest.raises(RebuildInProgress, match="take over with --force") as refused:
            await projection.rebuild(workers=workers, database_url=app_dsn)
        assert refused.value.rebuild_id == abandoned
        assert await projection.checkpoint() == REBUILDING

    await projection.rebuild(workers=2, database_url=app_dsn, force=True)
    for product_id, state in portfolio.states.items():
        assert await projection.get_state(product_id) == state


async def test_a_share_of_a_rebuild_that_was_taken_over_writes_nothing(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    await a_busy_portfolio(portfolio)
    async with app_pool.acquire() as conn:
        await mark_rebuilding(conn, ProductProjection.NAME, uuid.uuid4())
        await conn.execute("DELETE FROM product_states")

    with pytest.raises(RebuildTakenOver, match="no longer owns the rows"):
        await fold_streams(app_dsn, ProductProjection.NAME, uuid.uuid4(), ["product-alpha"], 10**6)

    assert await projection.list_products() == []


async def test_a_cancelled_rebuild_hands_the_rows_back_empty_for_an_in_order_replay(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool, app_dsn: str
) -> None:
    await a_busy_portfolio(portfolio)
    rebuild = asyncio.ensure_future(projection.rebuild(workers=2, database_url=app_dsn))
    async with asyncio.timeout(10):
        # The mark lives in Postgres; polling it is the only way to see the shares begin.
        while await projection.checkpoint() != REBUILDING:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    rebuild.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rebuild

    assert await projection.checkpoint() == 0
    assert await app_pool.fetchval("SELECT count(*) FROM product_states") == 0
    await projection.catch_up()
    for product_id, state in portfolio.states.items():
        assert await projection.get_state(product_id) == state
