"""Operations tests: logs captured as the processes write them, spans collected in memory,
and the real API and worker composition on real Postgres and the time-skipping Temporal."""

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.services import ApiServices
from playbooks import load_playbook_catalog
from runtime.log_setup import configure_logging
from runtime.settings import Settings
from runtime.telemetry import tracer_provider
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from tests.support.processes import TemporalDevServer
from tests.support.temporal_fixtures import product_id, products, time_skipping_env
from workflows.product_client import ProductLifecycleClient

__all__ = ["product_id", "products", "time_skipping_env"]


@dataclass
class CapturedLogs:
    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """The production logging pipeline writing JSON into memory; the previous logging
    configuration is restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved = structlog.get_config()
    stream = io.StringIO()
    configure_logging("DEBUG", fmt="json", stream=stream, cache=False)
    try:
        yield CapturedLogs(stream)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**saved)
        logging.getLogger("uvicorn.access").disabled = False


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[TemporalDevServer]:
    """A real `temporal server start-dev` (the time-skipping server lacks some APIs)."""
    server = TemporalDevServer(tmp_path / "temporal")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(spans: InMemorySpanExporter) -> TracerProvider:
    provider = tracer_provider(Settings(), "lifecycle-test", processor=SimpleSpanProcessor(spans))
    assert provider is not None
    return provider


@dataclass
class OpsApi:
    http: httpx.AsyncClient
    services: ApiServices
    identity: IdentityStore

    async def person(self, subject: str, *roles: str) -> dict[str, str]:
        now = datetime.now(UTC)
        await self.identity.add_user(subject, subject.title(), roles)
        issued = await self.identity.create_token(
            subject, label="test", expires_at=now + timedelta(days=1), now=now
        )
        return {"Authorization": f"Bearer {issued.token}"}


def api_services(products: ProductLifecycleClient, pool: asyncpg.Pool) -> ApiServices:
    events = EventStore(pool)
    return ApiServices(
        products=products,
        events=events,
        identity=IdentityStore(pool),
        projection=ProductProjection(pool, events),
        playbooks=load_playbook_catalog(),
        delegations=DelegationStore(pool),
        audit_pool=pool,
        outbox=NotificationOutbox(pool),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def ops_api(
    products: ProductLifecycleClient,
    app_pool: asyncpg.Pool,
    time_skipping_env: WorkflowEnvironment,
    traced: TracerProvider,
) -> AsyncIterator[OpsApi]:
    services = api_services(products, app_pool)
    app = create_app(services, temporal=time_skipping_env.client, tracer_provider=traced)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        yield OpsApi(http=http, services=services, identity=services.identity)
