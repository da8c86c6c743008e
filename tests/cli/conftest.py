"""CLI tests: the `lifecycle` command against a live API.

The real app (as `tests/api/conftest.py` builds it: time-skipping Temporal, a worker, a fresh
Postgres database) is served by uvicorn on a free 127.0.0.1 port in the session event loop. The
CLI runs in a thread (`asyncio.to_thread`) so the loop keeps serving while it waits for answers.
"""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from fastapi import FastAPI
from structlog.testing import capture_logs
from typer.testing import CliRunner

from api.app import create_app
from api.server import serve
from api.services import ApiServices
from cli.main import app as cli_app
from playbooks import load_playbook_catalog
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.projections import ProductProjection
from tests.support.temporal_fixtures import product_id, products, time_skipping_env
from workflows.product_client import ProductLifecycleClient

__all__ = ["product_id", "products", "time_skipping_env"]

ADMIN = "admin-ann"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Clock:
    """The API's notion of now; tests move it to expire tokens."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Run:
    """One finished CLI invocation."""

    args: Sequence[str]
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def reason(self) -> str:
        """The one-line reason a failing command gives on stderr."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {self.stderr!r}"
        return lines[0]

    def ok(self) -> "Run":
        assert self.exit_code == 0, f"{' '.join(self.args)} -> {self.exit_code}: {self.stderr}"
        return self


class Cli:
    """Runs `lifecycle` the way a user would, with LIFECYCLE_URL and LIFECYCLE_TOKEN set."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self._runner = CliRunner()

    def as_(self, token: str | None) -> "Cli":
        return Cli(self.url, token)

    async def __call__(self, *args: str, env: dict[str, str | None] | None = None) -> Run:
        environment: dict[str, str | None] = {
            "LIFECYCLE_URL": self.url,
            "LIFECYCLE_TOKEN": self.token,
            "LIFECYCLE_OUTPUT": None,
            "LIFECYCLE_TIMEOUT": None,
            "COLUMNS": "200",  # wide enough that table cells do not wrap mid-phrase
            "NO_COLOR": "1",
            **(env or {}),
        }
        result = await asyncio.to_thread(
            self._runner.invoke, cli_app, list(args), env=environment, catch_exceptions=True
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug in the CLI, not an answer: fail loudly
        return Run(args, result.exit_code, result.stdout, result.stderr)


@dataclass
class LiveApi:
    url: str
    identity: IdentityStore
    clock: Clock
    services: ApiServices
    admin_token: str
    cli: Cli
    server_logs: list[dict[str, Any]]

    async def token_for(
        self, subject: str, roles: Sequence[str], display_name: str | None = None
    ) -> str:
        """Adds a user directly in the store and returns a token that signs them in."""
        await self.identity.add_user(subject, display_name or subject.title(), roles)
        issued = await self.identity.create_token(
            subject, label="test", expires_at=self.clock.now + timedelta(days=1), now=self.clock.now
        )
        return issued.token

    def as_(self, token: str | None) -> Cli:
        return self.cli.as_(token)


async def _wait_until_listening(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                await http.get("/me")
                return
            await asyncio.sleep(0.025)
    raise AssertionError(f"the API did not start listening at {url}")


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serves `app` with uvicorn on a free port in this event loop; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    try:
        await _wait_until_listening(url)
        yield url
    finally:
        stop.set()
        await server


@pytest_asyncio.fixture(loop_scope="session")
async def live_api(
    products: ProductLifecycleClient, app_pool: asyncpg.Pool, event_store: EventStore
) -> AsyncIterator[LiveApi]:
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
    )
    await identity.add_user(ADMIN, "Ann Admin", ["admin"])
    issued = await identity.create_token(
        ADMIN, label="test admin", expires_at=clock.now + timedelta(days=1), now=clock.now
    )
    # The server shares this process with the CLI under test, and CliRunner swaps sys.stdout
    # while a command runs: the server's structlog lines must not land in the command's output.
    with capture_logs() as server_logs:
        async with serving(create_app(services)) as url:
            yield LiveApi(
                url=url,
                identity=identity,
                clock=clock,
                services=services,
                admin_token=issued.token,
                cli=Cli(url, issued.token),
                server_logs=server_logs,
            )
