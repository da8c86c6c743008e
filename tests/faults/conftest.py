"""Fault tests run the product's parts as real processes and break them on purpose.

They are marked `slow` (registered here) so a developer can leave them out with
`-m "not slow"`; CI's plain `pytest` runs them. Every process a test starts joins its
`processes` group, which stops them all when the test ends, passed or failed.
"""

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client

from tests.support.processes import ProcessGroup, TemporalDevServer
from worker import connect_temporal
from workflows.product_client import DEFAULT_BUSY_PATIENCE, ProductLifecycleClient
from workflows.visibility import require_search_attributes

# How long a client keeps retrying while the server refuses a command (busy, unreachable, or
# the per-workflow limit of in-flight updates). Recovering from a killed worker takes the new
# worker's start, the lost workflow task's and append attempt's timeouts: longer, at times,
# than the API's patience (DEFAULT_BUSY_PATIENCE). An API caller then gets a 503
# `product.busy` with Retry-After and retries with its Idempotency-Key; here the client simply
# waits long enough to see every call's real outcome.
CLIENT_PATIENCE = 3 * DEFAULT_BUSY_PATIENCE


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: real processes are stopped and restarted (runs in CI; -m 'not slow')"
    )


@pytest.fixture
def fault_dir() -> Iterator[Path]:
    """Not pytest's tmp_path: Postgres runs as its own system user, which must reach this
    directory, and pytest keeps its base directory private (mode 0700)."""
    base = Path(tempfile.mkdtemp(prefix="lifecycle-faults-"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def processes() -> Iterator[ProcessGroup]:
    group = ProcessGroup()
    try:
        yield group
    finally:
        group.stop_all()


@pytest.fixture
def temporal_server(fault_dir: Path, processes: ProcessGroup) -> TemporalDevServer:
    server = TemporalDevServer(fault_dir / "temporal")
    processes.add(server)
    server.start()
    return server


@pytest_asyncio.fixture(loop_scope="session")
async def temporal_client(temporal_server: TemporalDevServer) -> Client:
    return await connect_temporal(temporal_server.address, "default")


@pytest.fixture
def task_queue() -> str:
    return f"faults-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(loop_scope="session")
async def products(
    temporal_client: Client, task_queue: str
) -> AsyncIterator[ProductLifecycleClient]:
    """Configured as the API configures it (search attributes published), but patient."""
    await require_search_attributes(temporal_client, "default")
    yield ProductLifecycleClient(
        temporal_client,
        task_queue,
        busy_patience=CLIENT_PATIENCE,
        publish_search_attributes=True,
    )
