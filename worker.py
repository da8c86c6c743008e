"""Composition root of the Temporal worker: client, event store pool, workflows, activities."""

import asyncio
from collections.abc import Sequence

import asyncpg
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from runtime.log_setup import configure_logging
from runtime.settings import Settings
from store.app_role import set_app_role_password
from store.event_store import EventStore
from store.migrations import create_app_pool, migrate
from store.notification_outbox import NotificationOutbox
from workflows.product_lifecycle import ProductLifecycleWorkflow

WORKFLOWS: Sequence[type] = (ProductLifecycleWorkflow,)


async def connect_temporal(address: str, namespace: str) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def build_worker(client: Client, pool: asyncpg.Pool, task_queue: str) -> Worker:
    event_log = EventLogActivities(EventStore(pool))
    notifications = NotificationActivities(NotificationOutbox(pool))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[event_log.append_product_events, notifications.notify_stakeholders],
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
    await migrate(database_url)
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    pool = await open_app_pool(settings, database_url)
    try:
        await build_worker(client, pool, settings.temporal_task_queue).run()
    finally:
        await pool.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    if settings.database_url is None:
        raise SystemExit(
            "DATABASE_URL is not set: a standalone worker needs a PostgreSQL; "
            "`lifecycle dev` runs the embedded default"
        )
    asyncio.run(run_worker(settings, settings.database_url))


if __name__ == "__main__":
    main()
