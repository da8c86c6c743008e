"""Liveness and readiness: the API and the worker say whether they can serve, and when not,
which dependency is away and why."""

import socket

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from runtime.health import postgres_probe, temporal_probe
from runtime.metrics_server import worker_health_app
from tests.ops.conftest import OpsApi, api_services
from workflows.product_client import ProductLifecycleClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def nowhere_temporal() -> Client:
    """A client of a Temporal frontend that is not there (lazy: connecting waits for a call)."""
    return await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)


async def test_the_api_is_alive_and_ready_when_postgres_and_temporal_answer(
    ops_api: OpsApi,
) -> None:
    alive = await ops_api.http.get("/healthz")
    ready = await ops_api.http.get("/readyz")

    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {
            "postgres": {"ok": True, "detail": "reachable"},
            "temporal": {"ok": True, "detail": "reachable"},
        },
    }


async def test_the_api_is_not_ready_naming_temporal_when_it_is_unreachable(
    products: ProductLifecycleClient, app_pool: asyncpg.Pool
) -> None:
    app = create_app(api_services(products, app_pool), temporal=await nowhere_temporal())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://lifecycle.test"
    ) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")

    assert alive.status_code == 200  # alive: restarting the API would not bring Temporal back
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["postgres"] == {"ok": True, "detail": "reachable"}
    assert body["checks"]["temporal"]["ok"] is False
    assert body["reason"].startswith("temporal: ")


async def test_the_api_is_not_ready_naming_postgres_when_its_pool_is_gone(
    products: ProductLifecycleClient, database_dsn: str, time_skipping_env: WorkflowEnvironment
) -> None:
    pool = await asyncpg.create_pool(database_dsn, min_size=1, max_size=1)
    app = create_app(api_services(products, pool), temporal=time_skipping_env.client)
    await pool.close()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://lifecycle.test"
    ) as http:
        ready = await http.get("/readyz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["temporal"] == {"ok": True, "detail": "reachable"}
    assert body["checks"]["postgres"]["ok"] is False
    assert "InterfaceError" in body["checks"]["postgres"]["detail"]
    assert body["reason"] == f"postgres: {body['checks']['postgres']['detail']}"


async def test_without_probes_the_api_is_never_ready(
    products: ProductLifecycleClient, app_pool: asyncpg.Pool
) -> None:
    services = api_services(products, app_pool)
    services.audit_pool = None
    app = create_app(services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://lifecycle.test"
    ) as http:
        ready = await http.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["reason"] == "no readiness probe is configured"


async def test_the_worker_reports_alive_and_ready_while_polling_and_stopped_after(
    app_pool: asyncpg.Pool, time_skipping_env: WorkflowEnvironment
) -> None:
    polling = True
    app = worker_health_app(
        lambda: polling,
        {
            "postgres": postgres_probe(app_pool),
            "temporal": temporal_probe(time_skipping_env.client),
        },
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://worker.test"
    ) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")
        polling = False
        dead = await http.get("/healthz")
        unready = await http.get("/readyz")

    assert alive.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"]["worker"] == {"ok": True, "detail": "polling"}
    assert dead.status_code == 503
    assert dead.json()["reason"] == "the worker stopped polling its task queue"
    assert unready.status_code == 503
    assert unready.json()["reason"] == "worker: the worker stopped polling its task queue"


async def test_the_worker_is_not_ready_when_temporal_is_unreachable(
    app_pool: asyncpg.Pool,
) -> None:
    app = worker_health_app(
        lambda: True,
        {
            "postgres": postgres_probe(app_pool),
            "temporal": temporal_probe(await nowhere_temporal()),
        },
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://worker.test"
    ) as http:
        ready = await http.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("temporal: ")
