"""What every engine benchmark shares: real servers in a temporary folder, workers, a product
journey computed once from the domain, percentiles, machine details and table printing.

Each benchmark runs its own embedded Postgres and its own Temporal dev server (in memory, or
in a SQLite file as `lifecycle dev` keeps it) on free ports, so nothing outside the run is
touched and nothing is downloaded. The bare baselines run on the same servers in the same
run, which is what makes the ratios meaningful on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import functools
import gc
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from domain.commands import Command, RegisterProduct
from domain.decide import decide
from domain.events import Event
from domain.evolve import evolve_all
from domain.identity import Actor
from domain.playbook import Playbook
from domain.state import ProductState
from playbooks import load_default_playbook
from runtime.embedded_postgres import start_embedded_postgres
from runtime.embedded_temporal import (
    EmbeddedTemporal,
    TemporalNotStarted,
    port_is_open,
    start_embedded_temporal,
    temporal_binary,
)
from runtime.gate_walk import criteria_commands, go_command, review_commands
from runtime.log_setup import configure_logging
from store.migrations import create_app_pool, migrate
from workflows.visibility import dev_server_flags

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "default"
OWNER = Actor(subject="bench-owner", display_name="Bench Owner", roles=("product-manager",))


def signer(role: str, number: int = 1) -> Actor:
    """A distinct person per role and number, as the gates require distinct approvers."""
    return Actor(subject=f"bench-{role}-{number}", display_name=f"{role} {number}", roles=(role,))


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for_port(port: int, within: float = 30.0) -> None:
    """Until something listens on 127.0.0.1:`port` (a server started on this loop)."""
    for _ in range(int(within / 0.05)):
        if port_is_open("127.0.0.1", port):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {within:.0f}s")


@contextlib.asynccontextmanager
async def running_postgres(*, pool_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
    """Only the embedded Postgres (migrated, app-role pool), for benchmarks of the store."""
    async with running_postgres_at(pool_size=pool_size) as (_, pool):
        yield pool


@contextlib.asynccontextmanager
async def running_postgres_at(*, pool_size: int = 4) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """``running_postgres``, with the owner's DSN (for maintenance and, with the app role's
    user, processes of their own)."""
    configure_logging("WARNING", fmt="json")
    faulthandler.enable()
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as tmp:
        postgres = await asyncio.to_thread(start_embedded_postgres, Path(tmp) / "pgdata")
        try:
            await migrate(postgres.dsn)
            pool = await create_app_pool(postgres.dsn, max_size=pool_size)
            try:
                yield postgres.dsn, pool
            finally:
                await pool.close()
        finally:
            await asyncio.to_thread(postgres.stop)


# -- servers ----------------------------------------------------------------------------------


@dataclass
class Stack:
    """Postgres (superuser `dsn`, app-role `pool`) and a Temporal dev server (`client`)."""

    dsn: str
    temporal_address: str
    client: Client
    pool: asyncpg.Pool
    workdir: Path


@contextlib.asynccontextmanager
async def running_stack(
    *, temporal_file: bool = False, pool_size: int = 20
) -> AsyncIterator[Stack]:
    """Starts both servers in a temporary folder and stops them (and removes it) after.

    The dev server keeps its state in memory unless `temporal_file` (then in a SQLite file, as
    `lifecycle dev` does): on a small machine the file's writes make the server, which both
    systems share, the bottleneck and hide what our engine itself costs."""
    configure_logging("WARNING", fmt="json")
    faulthandler.enable()
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as tmp:
        workdir = Path(tmp)
        postgres = await asyncio.to_thread(start_embedded_postgres, workdir / "pgdata")
        try:
            temporal = await _start_temporal(workdir / "temporal", temporal_file)
            try:
                from worker import connect_temporal  # the store-only benches skip workflows

                await migrate(postgres.dsn)
                client = await connect_temporal(temporal.address, NAMESPACE)
                pool = await create_app_pool(postgres.dsn, max_size=pool_size)
                try:
                    yield Stack(postgres.dsn, temporal.address, client, pool, workdir)
                finally:
                    await pool.close()
            finally:
                await asyncio.to_thread(temporal.stop)
        finally:
            await asyncio.to_thread(postgres.stop)


async def _start_temporal(data_dir: Path, in_file: bool, attempts: int = 3) -> EmbeddedTemporal:
    """The dev server also binds ports next to the one it is given; on a busy machine one of
    them may be taken, so a failed start is retried on other free ports."""
    start = start_embedded_temporal if in_file else _start_in_memory
    for attempt in range(1, attempts + 1):
        try:
            return await asyncio.to_thread(
                start,
                data_dir / f"attempt-{attempt}",
                port=free_port(),
                ui_port=free_port(),
                namespace=NAMESPACE,
            )
        except TemporalNotStarted as error:
            log_path = data_dir / f"attempt-{attempt}" / "temporal.log"
            tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            announce(f"temporal dev server did not start ({error}); log tail:\n{tail}")
    raise TemporalNotStarted(f"temporal dev server did not start in {attempts} attempts")


def _start_in_memory(
    data_dir: Path, *, port: int, ui_port: int, namespace: str
) -> EmbeddedTemporal:
    """`temporal server start-dev` without a database file, otherwise as
    `runtime.embedded_temporal` starts it (same binary, flags and search attributes)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "temporal.log"
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *dev_server_flags(),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = EmbeddedTemporal(
        process=process,
        address=f"127.0.0.1:{port}",
        ui_url=f"http://127.0.0.1:{ui_port}",
        log_path=log_path,
    )
    deadline = time.monotonic() + 60
    while not port_is_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise TemporalNotStarted(f"temporal dev server not ready; see {log_path}")
        time.sleep(0.2)
    return server


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--temporal-db-file",
        action="store_true",
        help="keep the dev server's state in a SQLite file, as `lifecycle dev` does "
        "(default: in memory)",
    )


def our_worker(stack: Stack, task_queue: str, *, cache_size: int = 1000) -> Worker:
    """The production worker (`worker.build_worker`), in this process; ``cache_size`` is
    `LIFECYCLE_WORKER_CACHE_SIZE`'s default unless a bench sizes it."""
    from worker import build_worker

    return build_worker(stack.client, stack.pool, task_queue, cache_size=cache_size)


@contextlib.contextmanager
def worker_process(
    stack: Stack, task_queue: str, settings: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m worker` as its own process, configured the way a deployment is (environment
    variables, ``settings`` on top), so its memory can be measured apart from the driver's."""
    env = {
        **os.environ,
        **(settings or {}),
        "DATABASE_URL": stack.dsn,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "TEMPORAL_NAMESPACE": NAMESPACE,
        "TEMPORAL_TASK_QUEUE": task_queue,
        "LIFECYCLE_LOG_LEVEL": "WARNING",
        "LIFECYCLE_LOG_FORMAT": "json",
    }
    env.pop("LIFECYCLE_WORKER_HEALTH_PORT", None)
    log = (stack.workdir / f"worker-{task_queue}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    log.close()
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the journey ------------------------------------------------------------------------------


@functools.cache
def _default_playbook() -> Playbook:
    return load_default_playbook()


def registration(product_id: str) -> RegisterProduct:
    return RegisterProduct(
        actor=OWNER,
        product_id=product_id,
        name=f"Bench {product_id}",
        description="A product driven by the benchmark",
        owner=OWNER.subject,
        owner_name=OWNER.display_name,
        playbook=_default_playbook(),
    )


def _counter_ids() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"00000000-0000-4000-8000-{n:012d}"


def journey(
    product_id: str = "bench-journey", *, until_review: bool = False
) -> tuple[list[Command], list[Event]]:
    """The commands after registration that carry a product through every gate of the default
    playbook to retirement (or, with `until_review`, up to the first open review), and the
    events they produce, registration first. Folded in the pure domain once, so a driver
    replays a ready list instead of asking the workflow for its state at every gate."""
    ids = _counter_ids()
    now = datetime.now(UTC)
    state = ProductState()
    events = decide(state, registration(product_id), now, lambda: next(ids))
    state = evolve_all(state, events)
    commands: list[Command] = []
    while not state.is_terminal:
        wanted = criteria_commands(state, OWNER) + review_commands(state, OWNER, signer)
        if until_review:
            wanted = wanted[: len(criteria_commands(state, OWNER)) + 1]
        else:
            wanted += go_command(state, lambda role: signer(role, 99))
        for command in wanted:
            produced = decide(state, command, now, lambda: next(ids))
            state = evolve_all(state, produced)
            events += produced
            commands.append(command)
        if until_review:
            break
    return commands, events


# -- figures ----------------------------------------------------------------------------------


class GcPauses:
    """Full (generation 2) garbage collections in this process while installed: how many, how
    long in all, the longest. A long one stalls every workflow activation in the process."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.total += pause
        self.longest = max(self.longest, pause)

    def report(self) -> str:
        return (
            f"gc: {self.count} full collections, {self.total:.2f} s in all, "
            f"longest {self.longest * 1000:.0f} ms"
        )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Right-aligned columns under a rule; floats with up to two decimals, thousands split."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)
    ]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """One line naming what the figures were measured on, and at which commit."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = _git("rev-parse", "--short", "HEAD")
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += "+local changes"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: nproc={os.cpu_count()} cpu={model!r} memory={memory} load={load} "
        f"python={platform.python_version()} commit={commit}"
    )


def load_now() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or ("" if args[0] == "status" else "unknown")


def announce(text: str) -> None:
    """Progress and tables go to stdout as they happen, so a long run shows where it is."""
    print(text, flush=True)
