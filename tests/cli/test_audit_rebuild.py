"""`lifecycle projections rebuild` replays the log into the read model and ends exactly where
incremental catch-up ended. Runs on a fresh database of its own, with no API."""

from __future__ import annotations

import uuid

import asyncpg

from store.event_store import EventStore
from store.projection_checkpoint import mark_rebuilding
from store.projections import ProductProjection
from tests.cli.conftest import Cli
from tests.store.projection_story import GRACE, Portfolio, projected_rows


async def test_a_rebuild_from_the_cli_ends_identical_to_incremental_catch_up(
    event_store: EventStore, app_pool: asyncpg.Pool, database_dsn: str
) -> None:
    portfolio = Portfolio(event_store)
    projection = ProductProjection(app_pool, event_store)
    await portfolio.register("alpha")
    await projection.catch_up(batch_size=3)
    await portfolio.register("beta", owner=GRACE)
    await portfolio.pass_gate("beta")
    await portfolio.register("gamma")
    await portfolio.kill("gamma")
    await projection.catch_up(batch_size=4)
    incremental = await projected_rows(database_dsn)
    checkpoint = await projection.checkpoint()
    cli = Cli("http://127.0.0.1:9", None)

    dsn_env = {"DATABASE_URL": database_dsn}
    rebuilt = await cli("-o", "json", "projections", "rebuild", env=dsn_env)
    text = await cli("projections", "rebuild", "--database-url", database_dsn)
    in_two = await cli("-o", "json", "projections", "rebuild", "--workers", "2", env=dsn_env)
    no_workers = await cli("projections", "rebuild", "--workers", "0", env=dsn_env)
    nowhere = await cli(
        "projections", "rebuild", "--database-url", "postgresql://nobody@127.0.0.1:9/none"
    )

    assert rebuilt.ok().json() == {
        "applied": sum(state.version for state in portfolio.states.values()),
        "checkpoint": checkpoint,
    }
    assert in_two.ok().json() == rebuilt.json()
    assert no_workers.exit_code == 2
    assert "--workers" in no_workers.stderr
    assert text.ok().stdout.startswith("rebuilt: ")
    assert f"checkpoint at position {checkpoint}" in text.stdout
    assert await projected_rows(database_dsn) == incremental
    assert nowhere.exit_code == 3


async def test_a_rebuild_refuses_while_another_owns_the_rows_and_takes_over_when_forced(
    event_store: EventStore, app_pool: asyncpg.Pool, database_dsn: str
) -> None:
    portfolio = Portfolio(event_store)
    await portfolio.register("alpha")
    async with app_pool.acquire() as conn:
        await mark_rebuilding(conn, ProductProjection.NAME, uuid.uuid4())
    cli = Cli("http://127.0.0.1:9", None)
    dsn_env = {"DATABASE_URL": database_dsn}

    refused = await cli("-o", "json", "projections", "rebuild", env=dsn_env)
    forced = await cli(
        "-o", "json", "projections", "rebuild", "--workers", "2", "--force", env=dsn_env
    )

    assert refused.exit_code == 1
    assert refused.json()["error"]["rule"] == "projection.rebuilding"
    assert "--force" in refused.json()["error"]["message"]
    assert forced.ok().json()["applied"] == portfolio.states["alpha"].version
