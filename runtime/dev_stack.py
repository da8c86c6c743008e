"""`lifecycle dev`: the whole product on one laptop, every piece real, state under one folder.

Temporal's dev server keeps workflows in a SQLite file and Postgres keeps the event store, both
under the data directory, so stopping and starting again resumes the same products.
"""

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from store.migrations import create_app_pool, migrate

from runtime.embedded_postgres import EmbeddedPostgres, start_embedded_postgres
from runtime.embedded_temporal import EmbeddedTemporal, start_embedded_temporal
from runtime.settings import Settings
from worker import build_worker, connect_temporal


@dataclass(frozen=True)
class DevStackInfo:
    data_dir: Path
    temporal_address: str
    temporal_ui_url: str
    database_url: str
    task_queue: str


async def run_dev_stack(
    settings: Settings,
    *,
    temporal_port: int,
    ui_port: int,
    announce: Callable[[DevStackInfo], None],
) -> None:
    """Runs until SIGINT or SIGTERM, then stops the worker, Temporal and Postgres in turn."""
    data_dir = settings.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    postgres: EmbeddedPostgres | None = None
    temporal: EmbeddedTemporal | None = None
    try:
        if settings.database_url is None:
            postgres = await asyncio.to_thread(start_embedded_postgres, data_dir / "postgres")
            database_url = postgres.dsn
        else:
            database_url = settings.database_url
        temporal = await asyncio.to_thread(
            start_embedded_temporal,
            data_dir / "temporal",
            port=temporal_port,
            ui_port=ui_port,
            namespace=settings.temporal_namespace,
        )
        await migrate(database_url)
        client = await connect_temporal(temporal.address, settings.temporal_namespace)
        pool = await create_app_pool(database_url)
        try:
            async with build_worker(client, pool, settings.temporal_task_queue):
                announce(
                    DevStackInfo(
                        data_dir=data_dir,
                        temporal_address=temporal.address,
                        temporal_ui_url=temporal.ui_url,
                        database_url=database_url,
                        task_queue=settings.temporal_task_queue,
                    )
                )
                await _until_stopped()
        finally:
            await pool.close()
    finally:
        if temporal is not None:
            await asyncio.to_thread(temporal.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
