"""`lifecycle api`: the API alone, for a deployment where workers run elsewhere.

It does not migrate (the one-shot migrations service or a worker does), so an API replica
never holds the migration lock while serving. It refuses to start on a namespace without the
product search attributes, rather than start products that would get stuck.
"""

import asyncio
import signal

from api.server import build_api, serve
from runtime.settings import Settings
from runtime.telemetry import (
    instrument_asyncpg,
    temporal_interceptors,
    temporal_runtime,
    tracer_provider,
)
from worker import connect_temporal, open_app_pool
from workflows.visibility import require_search_attributes


async def run_api(
    settings: Settings, database_url: str, *, stop: asyncio.Event | None = None
) -> None:
    """Serves until `stop` is set; without one, until SIGINT or SIGTERM."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    provider = tracer_provider(settings, "lifecycle-api")
    instrument_asyncpg(provider)
    client = await connect_temporal(
        settings.temporal_address,
        settings.temporal_namespace,
        settings=settings,
        runtime=temporal_runtime(settings, serve_metrics=False),
        interceptors=temporal_interceptors(provider),
    )
    if settings.search_attributes:
        await require_search_attributes(client, settings.temporal_namespace)
    pool = await open_app_pool(settings, database_url)
    try:
        api = build_api(
            settings,
            client,
            pool,
            publish_search_attributes=settings.search_attributes,
            tracer_provider=provider,
        )
        await serve(api.app, settings.api_host, settings.api_port, stop)
    finally:
        await pool.close()
        if provider is not None:
            provider.shutdown()
