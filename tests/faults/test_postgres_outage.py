"""Postgres stops for 30 s while decisions are made, then starts again on the same data
directory and port: decisions made during the outage wait, and are applied once it is back."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client

from domain.stages import Stage
from store.event_store import EventStore
from store.migrations import create_app_pool, migrate
from tests.faults.scenario import (
    Calls,
    assert_consistent,
    decisions_stored,
    go,
    interleave,
    metric_readings,
    new_product_ids,
    open_reviews,
    sign_offs,
    unexpected_failures,
    until,
)
from tests.support.processes import PostgresProcess, ProcessGroup, TemporalDevServer, start_worker
from workflows.product_client import ProductLifecycleClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PRODUCTS = 3
OUTAGE = 30.0


@pytest.fixture
def postgres(fault_dir: Path, processes: ProcessGroup) -> PostgresProcess:
    """A Postgres of this test's own: stopping it must not touch the session's server."""
    server = PostgresProcess(fault_dir / "pgdata")
    processes.add(server)
    server.start()
    return server


@pytest_asyncio.fixture(loop_scope="session")
async def outage_pool(postgres: PostgresProcess) -> AsyncIterator[asyncpg.Pool]:
    await migrate(postgres.dsn())
    pool = await create_app_pool(postgres.dsn())
    try:
        yield pool
    finally:
        await pool.close()


async def test_decisions_made_while_postgres_is_down_are_applied_once_it_is_back(
    fault_dir: Path,
    processes: ProcessGroup,
    temporal_server: TemporalDevServer,
    temporal_client: Client,
    task_queue: str,
    products: ProductLifecycleClient,
    postgres: PostgresProcess,
    outage_pool: asyncpg.Pool,
) -> None:
    event_store = EventStore(outage_pool)
    worker = start_worker(
        temporal_address=temporal_server.address,
        database_url=postgres.dsn(),
        task_queue=task_queue,
        log_path=fault_dir / "worker.log",
    )
    processes.add(worker)
    await worker.wait_until_polling(temporal_client, task_queue, within=60)
    product_ids = new_product_ids(PRODUCTS)
    await open_reviews(products, product_ids)

    calls = Calls(products)
    for product_id in product_ids:
        calls.send(product_id, interleave(sign_offs(range(1, 4)), metric_readings(range(1, 7))))

    async def some_stored() -> bool:
        return await decisions_stored(outage_pool) >= len(calls.all) // 4

    await until(some_stored, within=60, what="a quarter of the first decisions stored")
    await asyncio.to_thread(postgres.stop)
    unanswered_at_stop = [c for c in calls.all if c.answered_at is None]
    during_outage = Calls(products)
    for product_id in product_ids:
        during_outage.send(
            product_id, interleave(sign_offs(range(4, 7)), metric_readings(range(101, 104)))
        )
    await asyncio.sleep(OUTAGE)
    back_at = time.monotonic()
    await asyncio.to_thread(postgres.start)
    repaired_at = time.monotonic()
    await calls.settle(within=120)
    await during_outage.settle(within=120)
    calls.report("postgres down (before)", len(unanswered_at_stop), repaired_at)
    during_outage.report("postgres down (during)", len(during_outage.all), repaired_at)

    assert unanswered_at_stop, "postgres stopped after every call had answered"
    # An answer means "durable": a decision made after Postgres went down cannot be accepted
    # before it is back. (An earlier call may still be answered during the outage: its events
    # were committed before the server stopped.)
    accepted_while_down = [
        c.describe()
        for c in during_outage.accepted
        if c.answered_at is not None and c.answered_at < back_at
    ]
    assert accepted_while_down == []
    assert unexpected_failures(calls) == unexpected_failures(during_outage) == []
    assert len(calls.accepted) == len(calls.all)
    assert len(during_outage.accepted) == len(during_outage.all)
    calls.all.extend(during_outage.all)
    await assert_consistent(calls, products, product_ids, event_store, outage_pool)

    for product_id in product_ids:
        receipt = await products.execute(product_id, go())
        assert receipt.stage is Stage.PLANNING
    await assert_consistent(calls, products, product_ids, event_store, outage_pool)
