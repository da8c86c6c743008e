"""Web page tests: the real app on the time-skipping Temporal server and real Postgres, over
httpx (ASGI) for the unit-level checks and over a real socket (uvicorn) for the browser."""

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.services import ApiServices
from domain.commands import RequestGateReview
from domain.identity import Actor
from domain.playbook import Playbook
from playbooks import load_playbook_catalog
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from tests.support.journey import OWNER, commands_to_meet_criteria, register
from tests.support.temporal_fixtures import product_id, products, time_skipping_env
from workflows.product_client import ProductLifecycleClient

__all__ = ["product_id", "products", "time_skipping_env"]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class WebHarness:
    app: FastAPI
    http: httpx.AsyncClient
    identity: IdentityStore
    clock: Clock
    services: ApiServices

    async def token(
        self, subject: str, roles: Sequence[str], display_name: str | None = None
    ) -> str:
        """Adds a user and returns a token that signs them in."""
        if await self.identity.get_user(subject) is None:
            await self.identity.add_user(subject, display_name or subject.title(), roles)
        issued = await self.identity.create_token(
            subject, label="test", expires_at=self.clock.now + timedelta(days=1), now=self.clock.now
        )
        return issued.token

    @property
    def playbook(self) -> Playbook:
        return self.services.playbooks["default"]

    async def product_in_review(self, product_id: str, owner: Actor = OWNER) -> None:
        """A product in discovery with every criterion met and a review requested by `owner`."""
        products = self.services.products
        await products.register(register(product_id, self.playbook, owner))
        state = (await products.view(product_id)).state
        for command in commands_to_meet_criteria(state, owner):
            await products.execute(product_id, command)
        await products.execute(product_id, RequestGateReview(actor=owner, note="please sign"))

    async def sign_in(self, token: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
        http = client or self.http
        page = await http.get("/signin", headers={"Accept": "text/html"})
        return await http.post(
            "/signin",
            data={"token": token, "csrf_token": csrf_of(page.text), "next": "/"},
            headers={"Accept": "text/html"},
        )


@pytest_asyncio.fixture(loop_scope="session")
async def web(
    products: ProductLifecycleClient, app_pool: asyncpg.Pool, event_store: EventStore
) -> AsyncIterator[WebHarness]:
    clock = Clock()
    identity = IdentityStore(app_pool)
    services = ApiServices(
        products=products,
        events=event_store,
        identity=identity,
        projection=ProductProjection(app_pool, event_store),
        playbooks=load_playbook_catalog(),
        delegations=DelegationStore(app_pool),
        clock=clock,
        outbox=NotificationOutbox(app_pool),
        audit_pool=app_pool,
    )
    app = create_app(services, session_secret="web-test-secret")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        yield WebHarness(app=app, http=http, identity=identity, clock=clock, services=services)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # pytest owns the signals
        yield


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest_asyncio.fixture(loop_scope="session")
async def served(web: WebHarness) -> AsyncIterator[str]:
    """The same app on a real 127.0.0.1 port, served from the session loop; yields its URL."""
    port = _free_port()
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = _QuietServer(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serving, timeout=10)
