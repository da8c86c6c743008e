"""The embedded server keeps its data across restarts and survives a stale pid file."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg

from runtime.embedded_postgres import start_embedded_postgres


async def _query(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_restart_keeps_data_even_after_a_crash_left_a_reused_pid() -> None:
    base = Path(tempfile.mkdtemp(prefix="lifecycle-pg-restart-"))
    data_dir = base / "nested" / "pgdata"
    try:
        server = start_embedded_postgres(data_dir)
        asyncio.run(_query(server.dsn, "CREATE TABLE kept AS SELECT 42 AS answer"))
        server.stop()
        server.stop()  # idempotent

        # A crash leaves postmaster.pid behind; after a reboot its pid may belong to anyone.
        pid_file = data_dir / "postmaster.pid"
        lines = ["1", str(data_dir), "0", "5432", str(data_dir), "", "0 0", "ready"]
        pid_file.write_text("\n".join(lines) + "\n")
        (data_dir / ".handle_pids.json").write_text(f"[{os.getpid() + 10_000_000}]")

        again = start_embedded_postgres(data_dir)
        try:
            assert asyncio.run(_query(again.dsn, "SELECT answer FROM kept")) == 42
            assert again.dsn_for("other").startswith("postgresql://postgres:@/other?host=")
        finally:
            again.stop()
        assert not pid_file.exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
