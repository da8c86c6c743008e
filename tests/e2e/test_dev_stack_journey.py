"""End to end on real parts: `lifecycle dev` runs the Temporal dev server, an embedded Postgres
and a worker as a separate process; a product walks every stage to retired; the event store
holds every decision in order with a valid chain; Ctrl-C stops everything; a restart resumes."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest

from domain.stages import LIFECYCLE_PATH
from playbooks import load_default_playbook
from store.audit import verify_chain
from tests.support.journey import commands_to_meet_criteria, commands_to_sign_and_pass, register
from worker import connect_temporal
from workflows.contracts import stream_id_for
from workflows.product_client import ProductLifecycleClient

LIFECYCLE = Path(sys.executable).with_name("lifecycle")
pytestmark = pytest.mark.timeout(600)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.temporal_port = free_port()
        self.ui_port = free_port()
        self.api_port = free_port()
        self.process: subprocess.Popen[str] | None = None
        self.printed: dict[str, str] = {}

    def start(self, *extra: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        errors = self.data_dir / "dev-stderr.log"
        with errors.open("w") as stderr:
            self._start(stderr, extra)
        assert self.process is not None
        for line in self.process.stdout or ():
            if ":" in line and line.startswith("  "):
                label, _, value = line.strip().partition(": ")
                self.printed[label] = value
            if "task queue" in self.printed and "--demo" not in extra:
                return
            if line.startswith("  Omar Haddad"):
                return
        tail = "".join(errors.read_text().splitlines(keepends=True)[-30:])
        raise AssertionError(
            f"lifecycle dev exited early with {self.process.wait()}; its stderr ends:\n{tail}"
        )

    def _start(self, stderr: IO[str], extra: tuple[str, ...]) -> None:
        self.process = subprocess.Popen(
            [
                str(LIFECYCLE),
                "dev",
                *extra,
                "--data-dir",
                str(self.data_dir),
                "--temporal-port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--api-port",
                str(self.api_port),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=_without_database_url(),
        )

    def interrupt(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def _without_database_url() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[DevStack]:
    stack = DevStack(tmp_path / "state")
    yield stack
    if stack.process is not None and stack.process.poll() is None:
        stack.process.kill()
        stack.process.wait()


async def drive_to_retirement(products: ProductLifecycleClient, product_id: str) -> list[str]:
    await products.register(register(product_id, load_default_playbook()))
    stages = [(await products.view(product_id)).state.stage]
    decided: list[str] = []
    while not (state := (await products.view(product_id)).state).is_terminal:
        for command in commands_to_meet_criteria(state) + commands_to_sign_and_pass(state):
            receipt = await products.execute(product_id, command)
            decided.extend(event.type for event in receipt.events)
        stages.append((await products.view(product_id)).state.stage)
    assert stages == list(LIFECYCLE_PATH)
    return decided


async def test_a_product_goes_from_registration_to_retired_on_the_dev_stack_and_survives_restart(
    dev_stack: DevStack,
) -> None:
    dev_stack.start()
    printed = dev_stack.printed
    assert printed["Temporal address"] == f"127.0.0.1:{dev_stack.temporal_port}"
    assert printed["Temporal UI"] == f"http://127.0.0.1:{dev_stack.ui_port}"
    assert printed["API"] == f"http://127.0.0.1:{dev_stack.api_port}"
    async with httpx.AsyncClient(base_url=printed["API"]) as http:
        me = await http.get("/me", headers={"Authorization": f"Bearer {printed['admin token']}"})
    assert me.json()["roles"] == ["admin", "product-manager"]
    database_url = printed["DATABASE_URL"]
    client = await connect_temporal(printed["Temporal address"], "default")
    products = ProductLifecycleClient(client, printed["task queue"])

    decided = await drive_to_retirement(products, "atlas-search")

    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT type, stream_version FROM events WHERE stream_id = $1 ORDER BY position",
            stream_id_for("atlas-search"),
        )
        verification = await verify_chain(connection)
    finally:
        await connection.close()
    assert [row["type"] for row in rows] == ["ProductRegistered", *decided]
    assert [row["stream_version"] for row in rows] == list(range(1, len(rows) + 1))
    assert verification.ok, verification.problem
    assert verification.events_checked == len(rows)
    assert (await products.outcome("atlas-search")).status == "retired"

    assert dev_stack.interrupt() == 0

    dev_stack.start()
    client = await connect_temporal(dev_stack.printed["Temporal address"], "default")
    products = ProductLifecycleClient(client, dev_stack.printed["task queue"])
    resumed = await products.view("atlas-search")
    assert resumed.state.stage == "retired"
    await products.register(register("beacon-analytics", load_default_playbook()))
    connection = await asyncpg.connect(dev_stack.printed["DATABASE_URL"])
    try:
        positions = [r["position"] for r in await connection.fetch("SELECT position FROM events")]
        verification = await verify_chain(connection)
    finally:
        await connection.close()
    assert sorted(positions) == list(range(1, len(rows) + 2))
    assert verification.ok, verification.problem
    assert dev_stack.interrupt() == 0


async def test_the_demo_portfolio_lets_a_gatekeeper_sign_a_waiting_review(
    dev_stack: DevStack,
) -> None:
    dev_stack.start("--demo")
    printed = dev_stack.printed
    grace = {"Authorization": f"Bearer {printed['Grace Okafor (product-lead)']}"}
    admin = {"Authorization": f"Bearer {printed['admin token']}"}

    async with httpx.AsyncClient(base_url=printed["API"]) as http:
        portfolio = (await http.get("/products", headers=admin)).json()["products"]
        inbox = (await http.get("/approvals", headers=grace)).json()["pending"]
        signed = await http.post(
            f"/products/{inbox[0]['product_id']}/gate/signoffs",
            json={"verdict": "approve", "reason": "strategy is sound"},
            headers=grace,
        )
        after = (await http.get("/approvals", headers=grace)).json()["pending"]
        moved = (await http.get("/products/beacon-insights", headers=admin)).json()

    assert {p["stage"] for p in portfolio} >= {"discovery", "planning", "launch", "killed"}
    assert [(p["product_id"], p["role"]) for p in inbox] == [("beacon-insights", "product-lead")]
    assert signed.status_code == 200, signed.text
    assert after == []
    assert moved["stage"] == "development"  # the last signature passed the gate by itself
    assert dev_stack.interrupt() == 0
