"""One error shape for every refusal, so clients handle all of them the same way.

`rule` is a stable code (`gate.criteria_unmet`, `auth.token_expired`), `message` a sentence that
names the thing refused. Nothing a client can send produces a 500: validation failures become
422, refusals keep the status their kind implies, Temporal or Postgres being away becomes 503.
"""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.refusals import CommandRefused, RefusalKind
from store.projections import ProjectionError
from workflows.product_client import workflow_not_ready

log = structlog.get_logger("lifecycle.api")

STATUS_FOR_KIND = {
    RefusalKind.INVALID: 422,
    RefusalKind.CONFLICT: 409,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.NOT_FOUND: 404,
}


class FieldProblem(BaseModel):
    location: str
    message: str


class ErrorDetail(BaseModel):
    status: int
    rule: str
    message: str
    fields: list[FieldProblem] = []


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiRefusal(Exception):
    """A refusal decided at the edge (authentication, unknown playbook, missing owner...)."""

    def __init__(
        self, status: int, rule: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.rule, self.message, self.headers = status, rule, message, headers


def error_response(
    status: int,
    rule: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(status=status, rule=rule, message=message, fields=fields or [])
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


# What the workflow service answers when it is away, or when a product has more commands in
# flight than the server admits and they did not get their turn within the client's patience.
_AWAY = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
_BUSY = {RPCStatusCode.RESOURCE_EXHAUSTED}
RETRY_AFTER_SECONDS = 5


def unavailable(error: RPCError) -> tuple[str, str] | None:
    """(rule, message) for an RPC error that means "retry later, nothing was changed"; None
    for any other, which is a bug to log."""
    if error.status in _AWAY:
        return "service.unavailable", "the workflow service is unavailable; nothing was changed"
    if error.status in _BUSY:
        return (
            "product.busy",
            "the product has too many commands in flight to take this one now; nothing was "
            "changed; retry in a few seconds (with the same Idempotency-Key, if you sent one)",
        )
    if workflow_not_ready(error):
        return (
            "product.busy",
            "the product's workflow is recovering from a failed step and takes no commands "
            "until it is retried; nothing was changed; retry in a few seconds (with the same "
            "Idempotency-Key, if you sent one)",
        )
    return None


def unavailable_response(error: RPCError) -> JSONResponse | None:
    answer = unavailable(error)
    if answer is None:
        return None
    return error_response(503, *answer, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _log_security(request: Request, status: int, rule: str, message: str) -> None:
    if status in (401, 403):
        log.warning(
            "security.refused",
            status=status,
            rule=rule,
            reason=message,
            path=request.url.path,
            method=request.method,
            subject=getattr(request.state, "subject", None),
        )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CommandRefused)
    async def _refused(request: Request, refusal: CommandRefused) -> JSONResponse:
        status = STATUS_FOR_KIND[refusal.kind]
        _log_security(request, status, refusal.rule, refusal.message)
        return error_response(status, refusal.rule, refusal.message)

    @app.exception_handler(ApiRefusal)
    async def _api_refused(request: Request, refusal: ApiRefusal) -> JSONResponse:
        _log_security(request, refusal.status, refusal.rule, refusal.message)
        return error_response(
            refusal.status, refusal.rule, refusal.message, headers=refusal.headers
        )

    @app.exception_handler(ProjectionError)
    async def _stalled(request: Request, error: ProjectionError) -> JSONResponse:
        """The read model stopped at an event it cannot fold: the operators must look, the
        client can only wait. The log itself is intact; commands still work."""
        log.error("projection.stalled", position=error.position, stream_id=error.stream_id)
        return error_response(
            503,
            "projection.stalled",
            f"the portfolio read model is stopped at event {error.position} "
            f"({error.stream_id}): {error.problem}; the operators have been told",
            headers={"Retry-After": "60"},
        )

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timed_out(
        request: Request, error: WorkflowUpdateRPCTimeoutOrCancelledError
    ) -> JSONResponse:
        """The command waited longer than the workflow service lets an update call wait (an
        overloaded worker): it may still be applied, so the answer says to ask again with the
        same key, which attaches to the same update instead of sending a second one."""
        log.warning("command.timed_out", path=request.url.path)
        return error_response(
            503,
            "product.busy",
            "the command waited longer than the workflow service allows; it may still be "
            "applied: retry in a few seconds with the same Idempotency-Key to learn its outcome",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(ValidationError)
    async def _invalid_command(request: Request, error: ValidationError) -> JSONResponse:
        """A command the domain's models refuse although the request passed the schema: still
        the client's input, so a 422 naming the field, never a 500."""
        problems = [
            FieldProblem(location=_location(tuple(e.get("loc", ()))), message=str(e.get("msg")))
            for e in error.errors()
        ]
        summary = "; ".join(f"{p.location}: {p.message}" for p in problems[:5])
        log.warning("request.invalid_command", path=request.url.path, problems=summary)
        return error_response(422, "request.invalid", f"invalid request: {summary}", problems)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            FieldProblem(location=_location(tuple(e.get("loc", ()))), message=str(e.get("msg")))
            for e in error.errors()
        ]
        summary = "; ".join(f"{p.location}: {p.message}" for p in problems[:5])
        return error_response(422, "request.invalid", f"invalid request: {summary}", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        rule = {404: "route.not_found", 405: "route.method_not_allowed"}.get(
            error.status_code, "request.refused"
        )
        return error_response(error.status_code, rule, str(error.detail))
