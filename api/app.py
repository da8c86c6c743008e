"""The FastAPI application. `create_app` takes its collaborators, so tests and `lifecycle dev`
wire real ones the same way."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import error_response, install_error_handlers, unavailable_response
from api.operations import install_operations
from api.routes import (
    admin,
    approvals,
    audit,
    delegations,
    launch,
    notifications,
    playbook_migrations,
    products,
    trail,
)
from api.services import ApiServices
from api.web import install_web
from api.web.kit import Web

log = structlog.get_logger("lifecycle.api")


def create_app(
    services: ApiServices,
    *,
    run_projector: bool = False,
    session_secret: str | None = None,
    temporal: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """`session_secret` signs the web pages' session cookies; None: a random one per app.
    `temporal` is probed by /readyz; `tracer_provider` (None: tracing off) traces requests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background = []
        if run_projector:
            background.append(asyncio.create_task(services.projection.run()))
            background.append(asyncio.create_task(_warm_board_figures(app, services)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="lifecycle",
        version="0.1.0",
        summary="Product lifecycle stage gates, sign-offs and an auditable decision trail.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(products.router)
    app.include_router(approvals.router)
    app.include_router(admin.router)
    app.include_router(delegations.router)
    app.include_router(notifications.router)
    app.include_router(audit.router)
    app.include_router(trail.router)
    app.include_router(playbook_migrations.router)
    app.include_router(launch.router)
    install_web(app, session_secret=session_secret)

    @app.middleware("http")
    async def answer_every_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The last line of 'never a 500 for a client's request': infrastructure being away is
        a 503, and anything else unexpected is logged with its request for the team to fix."""
        try:
            return await call_next(request)
        except RPCError as error:
            answer = unavailable_response(error)
            if answer is not None:
                return answer
            log.exception("request.failed", path=request.url.path, method=request.method)
            return error_response(500, "internal.error", "the request failed; it was logged")
        except Exception:
            log.exception("request.failed", path=request.url.path, method=request.method)
            return error_response(500, "internal.error", "the request failed; it was logged")

    install_operations(
        app, pool=services.audit_pool, temporal=temporal, tracer_provider=tracer_provider
    )
    return app


async def _warm_board_figures(app: FastAPI, services: ApiServices) -> None:
    """The board's trail figures fold the whole log on their first read, later reads only what
    it gained; folding it at start-up spares the first person to open the board that wait (23 s
    at 440,000 events, docs/performance.md). A failure here only leaves it to that person."""
    if services.audit_pool is None:
        return
    web: Web = app.state.web
    try:
        await web.analytics.current(services.audit_pool, services.clock())
    except Exception:
        log.warning("board.figures_not_warmed", exc_info=True)
    else:
        log.info("board.figures_warmed", events=web.analytics.events_read)
