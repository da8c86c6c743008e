"""The Temporal dev server stops (SIGTERM) and starts again on the same SQLite file and port
while decisions are in flight: each product continues from where it was."""

import asyncio
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
from tests.support.processes import ProcessGroup, TemporalDevServer, start_worker
from workflows.product_client import ProductLifecycleClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PRODUCTS = 3
READINGS = 6
# Long enough for the worker's and the clients' calls to fail and start retrying.
DOWN_FOR = 5.0


async def test_a_restarted_temporal_server_resumes_each_product_where_it_was(
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
    worker = start_worker(
        temporal_address=temporal_server.address,
        database_url=database_dsn,
        task_queue=task_queue,
        log_path=fault_dir / "worker.log",
    )
    processes.add(worker)
    await worker.wait_until_polling(temporal_client, task_queue, within=60)
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
    await asyncio.to_thread(temporal_server.stop)
    unanswered_at_stop = [c for c in calls.all if c.answered_at is None]
    await asyncio.sleep(DOWN_FOR)
    await asyncio.to_thread(temporal_server.start)
    repaired_at = time.monotonic()
    await calls.settle(within=150)
    calls.report("temporal restarted", len(unanswered_at_stop), repaired_at)

    assert unanswered_at_stop, "the server stopped after every call had answered"
    assert worker.process.poll() is None, "the worker did not survive the server's restart"
    assert unexpected_failures(calls) == []
    assert len(calls.accepted) == len(calls.all)
    await assert_consistent(calls, products, product_ids, event_store, app_pool)

    for product_id in product_ids:
        assert (await products.view(product_id)).state.stage is Stage.DISCOVERY
        receipt = await products.execute(product_id, go())
        assert receipt.stage is Stage.PLANNING
    await assert_consistent(calls, products, product_ids, event_store, app_pool)
