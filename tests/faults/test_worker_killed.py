"""kill -9 of the worker process while sign-offs and metric appends are in flight on several
products, then a fresh worker: nothing accepted is lost or doubled, and the products go on."""

import time
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from domain.stages import Stage
from store.event_store import EventStore
from tests.faults.scenario import (
    SIGNERS,
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
from tests.support.processes import ProcessGroup, TemporalDevServer, WorkerProcess, start_worker
from workflows.product_client import ProductLifecycleClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PRODUCTS = 4
READINGS = 6


async def test_a_worker_killed_mid_flight_loses_no_accepted_decision_and_doubles_none(
    fault_dir: Path,
    processes: ProcessGroup,
    temporal_server: TemporalDevServer,
    temporal_client: Client,
    task_queue: str,
    products: ProductLifecycleClient,
    database_dsn: str,
    app_pool: asyncpg.Pool,
    event_store: EventStore,
) -> None:
    async def worker(name: str) -> WorkerProcess:
        started = start_worker(
            temporal_address=temporal_server.address,
            database_url=database_dsn,
            task_queue=task_queue,
            log_path=fault_dir / f"{name}.log",
        )
        processes.add(started)
        await started.wait_until_polling(temporal_client, task_queue, within=60)
        return started

    first = await worker("worker-1")
    product_ids = new_product_ids(PRODUCTS)
    await open_reviews(products, product_ids)

    calls = Calls(products)
    for product_id in product_ids:
        calls.send(
            product_id,
            interleave(sign_offs(range(1, SIGNERS + 1)), metric_readings(range(1, READINGS + 1))),
        )

    async def a_quarter_stored() -> bool:
        return await decisions_stored(app_pool) >= len(calls.all) // 4

    await until(a_quarter_stored, within=60, what="a quarter of the decisions stored")
    first.kill()
    unanswered_at_kill = [c for c in calls.all if c.answered_at is None]
    await worker("worker-2")
    repaired_at = time.monotonic()
    await calls.settle(within=150)
    calls.report("worker killed", len(unanswered_at_kill), repaired_at)

    assert unanswered_at_kill, "the worker died after every call had answered"
    assert unexpected_failures(calls) == []
    assert len(calls.accepted) == len(calls.all)
    await assert_consistent(calls, products, product_ids, event_store, app_pool)

    for product_id in product_ids:
        receipt = await products.execute(product_id, go())
        assert receipt.stage is Stage.PLANNING
    await assert_consistent(calls, products, product_ids, event_store, app_pool)
