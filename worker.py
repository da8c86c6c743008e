"""Composition root of the Temporal worker: client, event store pool, workflows, activities,
and the operations around them (logs, metrics, traces, health)."""

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from pydantic import ValidationError
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from activities.webhooks_delivery import DeliveryActivities
from runtime.health import postgres_probe, temporal_probe
from runtime.log_setup import configure_logging
from runtime.metrics import TimedEventStore
from runtime.notification_routes import (
    EMBEDDED_ROUTES,
    NotificationRoutes,
    NotificationRoutesError,
    load_notification_routes,
)
from runtime.settings import Settings, settings_problems
from runtime.telemetry import (
    instrument_asyncpg,
    temporal_interceptors,
    temporal_runtime,
    tracer_provider,
)
from runtime.telemetry_activities import ActivityContextInterceptor
from store.app_role import set_app_role_password
from store.dead_letters import DeadLetterStore
from store.migrations import create_app_pool, migrate
from store.notification_outbox import NotificationOutbox
from workflows.contracts import NOTIFY_STAKEHOLDERS
from workflows.notification_delivery import DELIVER_NOTIFICATION, NotificationDeliveryWorkflow
from workflows.product_lifecycle import ProductLifecycleWorkflow

WORKFLOWS: Sequence[type] = (ProductLifecycleWorkflow, NotificationDeliveryWorkflow)
# Their failures count in lifecycle_notification_failures_total.
NOTIFICATION_ACTIVITIES: set[str] = {NOTIFY_STAKEHOLDERS, DELIVER_NOTIFICATION}
SHUTDOWN_GRACE = timedelta(seconds=20)
# How long a starting Temporal frontend is waited for. The dev server's answers Unavailable for
# a moment after its port opens (a CI run met it); a cluster's waits for its history and
# matching services, which can take tens of seconds.
SERVER_STARTING_PATIENCE = timedelta(seconds=60)
STARTING_POLL_INTERVAL = timedelta(seconds=0.25)
log = structlog.get_logger("lifecycle.worker")


class TemporalNotServing(RuntimeError):
    """The Temporal server answered, but kept saying it was starting past our patience."""


class TemporalConfigError(ValueError):
    """A Temporal TLS setting points at something unusable; names the variable."""


def temporal_tls(settings: Settings) -> bool | TLSConfig:
    """TLS as Temporal's environment configuration defines it: explicit TEMPORAL_TLS wins;
    certificates, a CA or a server name configure it; an API key alone turns it on."""
    if settings.temporal_tls is False:
        return False
    files = {
        "TEMPORAL_TLS_CLIENT_CERT_PATH": settings.temporal_tls_client_cert_path,
        "TEMPORAL_TLS_CLIENT_KEY_PATH": settings.temporal_tls_client_key_path,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": settings.temporal_tls_server_ca_cert_path,
    }
    loaded = {name: _read_pem(name, path) for name, path in files.items() if path is not None}
    if loaded or settings.temporal_tls_server_name:
        return TLSConfig(
            client_cert=loaded.get("TEMPORAL_TLS_CLIENT_CERT_PATH"),
            client_private_key=loaded.get("TEMPORAL_TLS_CLIENT_KEY_PATH"),
            server_root_ca_cert=loaded.get("TEMPORAL_TLS_SERVER_CA_CERT_PATH"),
            domain=settings.temporal_tls_server_name,
        )
    return bool(settings.temporal_tls or settings.temporal_api_key)


def _read_pem(variable: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TemporalConfigError(f"{variable}: cannot read {path}: {error.strerror}") from None


async def connect_temporal(
    address: str,
    namespace: str,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
    starting_patience: timedelta = SERVER_STARTING_PATIENCE,
) -> Client:
    """With `settings`, the API key and TLS of a Temporal Cloud or mTLS cluster apply.

    A server that is still starting is waited for, up to `starting_patience`: its port opens
    before its frontend serves (it answers Unavailable until its membership ring is up), and
    the SDK's connect gives up on the first such answer. Starting beside the server is what
    the embedded dev server, a compose stack and a restarted cluster all do. An address where
    nothing listens, or any other refusal, still fails at once."""
    api_key = None
    tls: bool | TLSConfig = False
    if settings is not None:
        tls = temporal_tls(settings)
        if settings.temporal_api_key is not None:
            api_key = settings.temporal_api_key.get_secret_value()
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + starting_patience.total_seconds()
    waiting = False
    while True:
        try:
            return await Client.connect(
                address,
                namespace=namespace,
                data_converter=pydantic_data_converter,
                api_key=api_key,
                tls=tls,
                runtime=runtime,
                interceptors=interceptors,
            )
        except RuntimeError as error:
            if not _frontend_is_starting(error):
                raise
            if loop.time() >= give_up_at:
                raise TemporalNotServing(
                    f"Temporal at {address} kept answering Unavailable, as a starting server "
                    f"does, for {starting_patience.total_seconds():g}s: {error}"
                ) from error
            if not waiting:
                log.info("temporal.frontend_starting", address=address)
                waiting = True
            await asyncio.sleep(STARTING_POLL_INTERVAL.total_seconds())


def _frontend_is_starting(error: RuntimeError) -> bool:
    """The SDK reports connect failures as RuntimeError text only. A reachable server's
    Unavailable answer to its first call is the starting frontend; a refused or unresolvable
    address fails before any call ("Server connection error")."""
    text = str(error)
    return "call error after connection" in text and "code: Unavailable" in text


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    routes: NotificationRoutes = EMBEDDED_ROUTES,
    *,
    cache_size: int = 1000,
) -> Worker:
    event_log = EventLogActivities(TimedEventStore(pool))
    notifications = NotificationActivities(NotificationOutbox(pool), routes=routes)
    delivery = DeliveryActivities(routes, DeadLetterStore(pool))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            event_log.append_product_events,
            notifications.notify_stakeholders,
            delivery.deliver_notification,
            delivery.record_dead_letter,
        ],
        interceptors=[ActivityContextInterceptor(NOTIFICATION_ACTIVITIES)],
        max_cached_workflows=cache_size,
        # On SIGTERM running activities get this long to finish before they are cancelled
        # (compose's stop_grace_period is longer), so a rolling restart cuts nothing short.
        graceful_shutdown_timeout=SHUTDOWN_GRACE,
    )


async def open_app_pool(
    settings: Settings, database_url: str, *, max_size: int = 10
) -> asyncpg.Pool:
    """The restricted role's pool; with LIFECYCLE_APP_DB_PASSWORD set, the role gets that
    password first (run after migrations, as the owner)."""
    password = settings.app_db_password.get_secret_value() if settings.app_db_password else None
    if password is not None:
        await set_app_role_password(database_url, password)
    return await create_app_pool(database_url, max_size=max_size, password=password)


async def run_worker(settings: Settings, database_url: str) -> None:
    """Runs until cancelled. Migrations are applied first so a worker never meets an old schema."""
    routes = load_notification_routes(settings.notification_routes)
    await migrate(database_url)
    provider = tracer_provider(settings, "lifecycle-worker")
    instrument_asyncpg(provider)
    client = await connect_temporal(
        settings.temporal_address,
        settings.temporal_namespace,
        settings=settings,
        runtime=temporal_runtime(settings),
        interceptors=temporal_interceptors(provider),
    )
    pool = await open_app_pool(settings, database_url)
    try:
        worker = build_worker(
            client,
            pool,
            settings.temporal_task_queue,
            routes,
            cache_size=settings.worker_cache_size,
        )
        if settings.worker_health_port is None:
            await worker.run()
            return
        await _run_with_health_server(settings.worker_health_port, worker, client, pool)
    finally:
        await pool.close()
        if provider is not None:
            provider.shutdown()


async def _run_with_health_server(
    port: int, worker: Worker, client: Client, pool: asyncpg.Pool
) -> None:
    from api.server import serve
    from runtime.metrics_server import worker_health_app

    polling = asyncio.create_task(worker.run())
    app = worker_health_app(
        lambda: not polling.done(),
        {"postgres": postgres_probe(pool), "temporal": temporal_probe(client)},
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, "0.0.0.0", port, stop))  # all interfaces: a container
    try:
        await polling
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await serving


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """SIGTERM (docker stop, a Kubernetes rollout) or SIGINT stops the worker gracefully: it
    stops polling, lets running activities finish, closes its pool, and the process exits 0."""
    running = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, running.cancel)
    try:
        await running
    except asyncio.CancelledError:
        log.info("worker.stopped", reason="signal")


def main() -> None:
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(f"{p['location']}: {p['message']}" for p in settings_problems(error))
        raise SystemExit(f"the configuration is invalid: {problems}") from None
    configure_logging(settings.log_level, fmt=settings.log_format)
    if settings.database_url is None:
        raise SystemExit(
            "DATABASE_URL is not set: a standalone worker needs a PostgreSQL; "
            "`lifecycle dev` runs the embedded default"
        )
    try:
        asyncio.run(_until_signalled(run_worker(settings, settings.database_url)))
    except (TemporalConfigError, NotificationRoutesError) as error:
        raise SystemExit(str(error)) from None


if __name__ == "__main__":
    main()
