"""What an operator needs from the API process: health, readiness, metrics, the canonical
request log and traces. Installed last by `create_app`, so its middleware wraps everything."""

import asyncpg
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api.request_log import install_request_log
from api.routes import health
from runtime.health import Probe, postgres_probe, temporal_probe
from runtime.telemetry import instrument_api


def install_operations(
    app: FastAPI,
    *,
    pool: asyncpg.Pool | None,
    temporal: Client | None,
    tracer_provider: TracerProvider | None,
) -> None:
    probes: dict[str, Probe] = {}
    if pool is not None:
        probes["postgres"] = postgres_probe(pool)
    if temporal is not None:
        probes["temporal"] = temporal_probe(temporal)
    app.state.readiness_probes = probes
    app.include_router(health.router)
    install_request_log(app)
    instrument_api(app, tracer_provider)
