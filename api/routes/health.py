"""Liveness and readiness for orchestrators, and the Prometheus scrape endpoint. No sign-in:
they reveal nothing about products, only whether this process can serve."""

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from runtime.health import Probe, Readiness, readiness
from runtime.metrics import CONTENT_TYPE_LATEST, exposition, refresh_state_gauges

router = APIRouter(tags=["operations"])
log = structlog.get_logger("lifecycle.api.health")


def probes_of(request: Request) -> dict[str, Probe]:
    probes: dict[str, Probe] = getattr(request.app.state, "readiness_probes", {})
    return probes


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering; says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """Postgres and Temporal reachable: 200; otherwise 503 naming what is not, and why."""
    result = await readiness(probes_of(request))
    body = result.model_dump(mode="json")
    if not result.ready:
        body["reason"] = result.reason() or "no readiness probe is configured"
    return JSONResponse(body, status_code=200 if result.ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    pool = request.app.state.services.audit_pool
    if pool is not None:
        try:
            await refresh_state_gauges(pool)
        except Exception:  # a scrape still answers with what it has when Postgres is away
            log.warning("metrics.refresh_failed", exc_info=True)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
