"""`lifecycle api` as a deployment runs it: on a real Temporal dev server (with the search
attributes registered) it serves, and /readyz finds Postgres and Temporal; on a namespace
without them it refuses to start, naming what is missing."""

import asyncio
import contextlib

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.api_process import run_api
from runtime.settings import Settings
from tests.support.processes import TemporalDevServer, free_port
from workflows.visibility import SearchAttributesMissing


async def first_answer(http: httpx.AsyncClient, path: str) -> httpx.Response:
    for _ in range(150):
        with contextlib.suppress(httpx.TransportError):
            return await http.get(path)
        await asyncio.sleep(0.2)
    pytest.fail(f"nothing answered {path} within 30 seconds")


def api_settings(temporal_address: str, database_dsn: str, port: int) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": database_dsn,
            "TEMPORAL_ADDRESS": temporal_address,
            "LIFECYCLE_API_PORT": port,
        }
    )


async def test_the_api_serves_and_is_ready_on_a_real_temporal_server(
    dev_server: TemporalDevServer, database_dsn: str
) -> None:
    port = free_port()
    stop = asyncio.Event()
    serving = asyncio.create_task(
        run_api(api_settings(dev_server.address, database_dsn, port), database_dsn, stop=stop)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            ready = await first_answer(http, "/readyz")
            metrics = await http.get("/metrics")
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)

    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"postgres", "temporal"}
    assert ready.headers["X-Request-ID"]
    assert "lifecycle_gate_reviews_open" in metrics.text


async def test_the_api_refuses_a_namespace_without_the_search_attributes(
    time_skipping_env: WorkflowEnvironment, database_dsn: str
) -> None:
    target = time_skipping_env.client.service_client.config.target_host

    with pytest.raises(SearchAttributesMissing) as refused:
        await run_api(
            api_settings(target, database_dsn, free_port()), database_dsn, stop=asyncio.Event()
        )

    assert "LifecycleStage" in str(refused.value)
