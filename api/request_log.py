"""One canonical log line per HTTP request, and the context every other line of it carries.

The request id (the caller's `X-Request-ID` when it is a sane token, else a fresh one) goes
back in the response header, so a person reporting a problem can quote it. Product id and
workflow id are bound before the route runs (from the path), so the route's own lines carry
them; the actor is bound deferred, so every line logged after authentication names it.
The query string is never logged (it may hold a token); the redactor guards the rest.
"""

import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from opentelemetry import trace

from runtime.log_setup import Deferred
from runtime.metrics import observe_http_request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PRODUCT_PATH = re.compile(r"^/(?:ui/)?products/([^/]+)")
log = structlog.get_logger("lifecycle.api.request")


def request_id_of(request: Request) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _SANE_REQUEST_ID.match(offered) else uuid.uuid4().hex


def install_request_log(app: FastAPI) -> None:
    """Install last, so it is the outermost middleware and sees the final status."""

    @app.middleware("http")
    async def canonical_line(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request)
        context: dict[str, object] = {
            "request_id": request_id,
            # Known once a route has authenticated the caller; every later line carries it.
            "actor": Deferred(lambda: getattr(request.state, "subject", None)),
        }
        if found := _PRODUCT_PATH.match(request.url.path):
            context["product_id"] = found.group(1)
            context["workflow_id"] = f"product-{found.group(1)}"
        with structlog.contextvars.bound_contextvars(**context):
            response = await call_next(request)
            duration = time.perf_counter() - started
            route = request.scope.get("route")
            template = str(getattr(route, "path", "")) or "unmatched"
            observe_http_request(request.method, template, response.status_code, duration)
            line = log.error if response.status_code >= 500 else log.info
            line(
                "http.request",
                method=request.method,
                path=request.url.path,
                route=template,
                status=response.status_code,
                duration_ms=round(duration * 1000, 2),
                actor=getattr(request.state, "subject", None),
                **_trace_of_request(),
            )
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


def _trace_of_request() -> dict[str, str]:
    """The trace id, when tracing is on, so a log line leads to its trace."""
    context = trace.get_current_span().get_span_context()
    return {"trace_id": format(context.trace_id, "032x")} if context.is_valid else {}
