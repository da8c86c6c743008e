"""The worker's own small HTTP server: /healthz, /readyz and our /metrics.

A worker has no API, so orchestrators need a signal: alive means the worker's poll loop is
still running (it stops for good on a fatal error, e.g. the task queue refusing it); ready also
means Postgres and Temporal answer. The Temporal SDK's metrics are served by the SDK itself
(LIFECYCLE_TEMPORAL_METRICS_BIND); these are the product's.
"""

from collections.abc import Callable, Mapping

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from runtime.health import Check, Probe, Readiness, readiness
from runtime.metrics import CONTENT_TYPE_LATEST, exposition


def worker_health_app(running: Callable[[], bool], probes: Mapping[str, Probe]) -> FastAPI:
    app = FastAPI(title="lifecycle worker", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        if running():
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"status": "stopped", "reason": "the worker stopped polling its task queue"},
            status_code=503,
        )

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        result = await readiness(probes)
        checks = dict(result.checks)
        checks["worker"] = (
            Check(ok=True, detail="polling")
            if running()
            else Check(ok=False, detail="the worker stopped polling its task queue")
        )
        ready = all(c.ok for c in checks.values())
        final = Readiness(status="ready" if ready else "not_ready", checks=checks)
        body = final.model_dump(mode="json")
        if not ready:
            body["reason"] = final.reason()
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
