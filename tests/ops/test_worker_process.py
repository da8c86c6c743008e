"""`run_worker` as `lifecycle worker` runs it: health and our metrics on one port, the
Temporal SDK's Prometheus metrics on another, both scraped over real HTTP; SIGTERM stops it
gracefully."""

import asyncio
import contextlib
import json
import signal
import socket
import uuid
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from runtime.settings import Settings
from tests.ops.conftest import CapturedLogs
from tests.support.processes import TemporalDevServer, start_worker
from worker import connect_temporal, run_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for(http: httpx.AsyncClient, url: str, seconds: float = 30.0) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            response = await http.get(url)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        assert asyncio.get_running_loop().time() < deadline, f"{url} never answered 200"
        await asyncio.sleep(0.2)


async def test_a_running_worker_serves_health_our_metrics_and_the_sdk_metrics(
    time_skipping_env: WorkflowEnvironment, database_dsn: str, logs: CapturedLogs
) -> None:
    health, sdk = free_port(), free_port()
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_dsn,
            "TEMPORAL_ADDRESS": time_skipping_env.client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": f"ops-worker-{uuid.uuid4()}",
            "LIFECYCLE_WORKER_HEALTH_PORT": health,
            "LIFECYCLE_TEMPORAL_METRICS_BIND": f"127.0.0.1:{sdk}",
        }
    )
    running = asyncio.create_task(run_worker(settings, database_dsn))
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            ready = await wait_for(http, f"http://127.0.0.1:{health}/readyz")
            alive = await http.get(f"http://127.0.0.1:{health}/healthz")
            ours = await http.get(f"http://127.0.0.1:{health}/metrics")
            theirs = await wait_for(http, f"http://127.0.0.1:{sdk}/metrics")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    assert ready.json()["checks"] == {
        "postgres": {"ok": True, "detail": "reachable"},
        "temporal": {"ok": True, "detail": "reachable"},
        "worker": {"ok": True, "detail": "polling"},
    }
    assert alive.json() == {"status": "ok"}
    assert "# TYPE lifecycle_event_store_append_seconds histogram" in ours.text
    assert "# TYPE lifecycle_gate_reviews_open gauge" in ours.text
    # The SDK core's own warnings (this test server lacks a capability) arrive as JSON lines.
    core = [line for line in logs.lines() if line["logger"].startswith("temporalio.core")]
    assert core
    assert all(line["level"] == "warning" for line in core)
    sdk_names = {line.split("{")[0] for line in theirs.text.splitlines() if line[:1] != "#"}
    assert {"temporal_worker_start", "temporal_num_pollers", "temporal_request"} <= sdk_names


async def test_sigterm_stops_the_worker_gracefully_with_exit_code_0(
    dev_server: TemporalDevServer, database_dsn: str, tmp_path: Path
) -> None:
    task_queue = f"ops-sigterm-{uuid.uuid4()}"
    client = await connect_temporal(dev_server.address, "default")
    worker = start_worker(
        temporal_address=dev_server.address,
        database_url=database_dsn,
        task_queue=task_queue,
        log_path=tmp_path / "worker.log",
    )
    try:
        await worker.wait_until_polling(client, task_queue, within=60)
        worker.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.process.wait, 30)
    finally:
        worker.kill()

    assert code == 0
    stopped = [
        json.loads(line)
        for line in (tmp_path / "worker.log").read_text().splitlines()
        if '"worker.stopped"' in line
    ]
    assert [line["reason"] for line in stopped] == ["signal"]
