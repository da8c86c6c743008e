"""Schemathesis fuzzes every operation in /openapi.json against a live server: no request a
client can craft may produce a 5xx."""

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from api.app import create_app
from api.server import serve
from tests.api.conftest import ApiHarness

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
pytestmark = pytest.mark.timeout(600)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest_asyncio.fixture(loop_scope="session")
async def live_url(api: ApiHarness) -> AsyncIterator[str]:
    port = free_port()
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(create_app(api.services), "127.0.0.1", port, stop))
    for _ in range(100):
        with contextlib.closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    stop.set()
    await serving


async def test_no_generated_request_produces_a_server_error(
    api: ApiHarness, live_url: str, tmp_path: Path
) -> None:
    everyone = ["admin", "product-manager", "product-lead", "exec-sponsor", "finance"]
    headers = await api.person("fuzzer", everyone)
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{live_url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        # The fuzzer must not lock itself out: revoking tokens and disabling users are covered
        # by their own tests.
        "--exclude-path-regex",
        "/revoke$",
        "--exclude-method",
        "PATCH",
        "--seed",
        "20261125",
        "--max-time",
        "120",
        "--header",
        f"Authorization: {headers['Authorization']}",
        "--report-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    (tmp_path / "schemathesis.txt").write_text(report)

    assert process.returncode == 0, report[-6000:]
    assert "No issues found" in report or "passed" in report.lower(), report[-3000:]
