"""`lifecycle dev`: the whole product on one laptop, every piece real, state under one folder.

Temporal's dev server keeps workflows in a SQLite file and Postgres keeps the event store, both
under the data directory, so stopping and starting again resumes the same products.
"""

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from api.server import build_api, serve
from runtime.bootstrap import admin_token
from runtime.demo import DemoPerson, DemoPortfolio
from runtime.embedded_postgres import EmbeddedPostgres, start_embedded_postgres
from runtime.embedded_temporal import EmbeddedTemporal, port_is_open, start_embedded_temporal
from runtime.notification_routes import load_notification_routes
from runtime.settings import Settings
from store.migrations import migrate
from worker import build_worker, connect_temporal, open_app_pool
from workflows.visibility import require_search_attributes


class PortInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class DevStackInfo:
    data_dir: Path
    temporal_address: str
    temporal_ui_url: str
    database_url: str
    task_queue: str
    api_url: str
    admin_token: str
    demo_people: tuple[DemoPerson, ...] = ()


async def run_dev_stack(
    settings: Settings,
    *,
    temporal_port: int,
    ui_port: int,
    announce: Callable[[DevStackInfo], None],
    demo: bool = False,
) -> None:
    """Runs until SIGINT or SIGTERM, then stops the API, the worker, Temporal and Postgres."""
    routes = load_notification_routes(settings.notification_routes)  # refused before starting
    data_dir = settings.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if port_is_open(settings.api_host, settings.api_port):
        raise PortInUse(
            f"port {settings.api_host}:{settings.api_port} is already in use; stop what "
            "listens there or choose another (--api-port)"
        )
    stop = _stop_on_signals()
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
        pool = await open_app_pool(settings, database_url, max_size=20)
        try:
            if settings.search_attributes:
                await require_search_attributes(client, settings.temporal_namespace)
            api = build_api(
                settings, client, pool, publish_search_attributes=settings.search_attributes
            )
            async with build_worker(client, pool, settings.temporal_task_queue, routes):
                serving = asyncio.create_task(
                    serve(api.app, settings.api_host, settings.api_port, stop)
                )
                now = datetime.now(UTC)
                token = await admin_token(api.services.identity, now)
                people: list[DemoPerson] = []
                if demo:
                    portfolio = DemoPortfolio(api.services.identity, api.services.products)
                    people = await portfolio.seed(api.services.playbooks["default"], now)
                announce(
                    DevStackInfo(
                        data_dir=data_dir,
                        temporal_address=temporal.address,
                        temporal_ui_url=temporal.ui_url,
                        database_url=database_url,
                        task_queue=settings.temporal_task_queue,
                        api_url=f"http://{settings.api_host}:{settings.api_port}",
                        admin_token=token.token,
                        demo_people=tuple(people),
                    )
                )
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({stopping, serving}, return_when=asyncio.FIRST_COMPLETED)
                stop.set()
                await serving
        finally:
            await pool.close()
    finally:
        if temporal is not None:
            await asyncio.to_thread(temporal.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
