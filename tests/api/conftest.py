"""API tests: the real app over httpx, on the time-skipping Temporal server and real Postgres."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.dead_letter_desk import DeadLetterDesk
from api.services import ApiServices
from playbooks import load_playbook_catalog
from store.dead_letters import DeadLetterStore
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from tests.support.temporal_fixtures import product_id, products, time_skipping_env
from workflows.product_client import ProductLifecycleClient

__all__ = ["product_id", "products", "time_skipping_env"]


@dataclass
class Clock:
    """The API's notion of now; tests move it to expire tokens."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class ApiHarness:
    http: httpx.AsyncClient
    identity: IdentityStore
    clock: Clock
    services: ApiServices

    async def person(
        self, subject: str, roles: Sequence[str], display_name: str | None = None
    ) -> dict[str, str]:
        """Adds a user and returns the headers that sign them in."""
        await self.identity.add_user(subject, display_name or subject.title(), roles)
        issued = await self.identity.create_token(
            subject,
            label="test",
            expires_at=self.clock.now + timedelta(days=1),
            now=self.clock.now,
        )
        return {"Authorization": f"Bearer {issued.token}"}


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    products: ProductLifecycleClient,
    app_pool: asyncpg.Pool,
    event_store: EventStore,
    time_skipping_env: WorkflowEnvironment,
) -> AsyncIterator[ApiHarness]:
    clock = Clock()
    identity = IdentityStore(app_pool)
    services = ApiServices(
        products=products,
        events=event_store,
        identity=identity,
        projection=ProductProjection(app_pool, event_store),
        playbooks=load_playbook_catalog(),
        delegations=DelegationStore(app_pool),
        audit_pool=app_pool,
        clock=clock,
        outbox=NotificationOutbox(app_pool),
        dead_letters=DeadLetterDesk(
            DeadLetterStore(app_pool), time_skipping_env.client, products.task_queue
        ),
    )
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        yield ApiHarness(http=http, identity=identity, clock=clock, services=services)
