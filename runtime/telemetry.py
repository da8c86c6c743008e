"""Traces and the Temporal SDK's metrics, set up by the entry points.

Traces are off unless a collector is configured (`LIFECYCLE_OTLP_ENDPOINT` or the standard
`OTEL_EXPORTER_OTLP_ENDPOINT`): then spans go over OTLP/HTTP. The same provider feeds
Temporal's tracing interceptor (client calls, workflow and activity spans, propagated through
Temporal headers), FastAPI's and asyncpg's instrumentation, so one request is one trace from
the HTTP call through the update to the event-store INSERT.
"""

import logging
import os
from typing import Any

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from runtime.settings import Settings

_UNTRACED_PATHS = "healthz,readyz,metrics"


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP convention: a base URL gets `/v1/traces` appended."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def tracer_provider(
    settings: Settings, service_name: str, *, processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """None when no collector is configured and no processor given: tracing stays off.
    `processor` lets a test collect spans in memory."""
    if processor is None:
        if settings.otlp_endpoint is None:
            return None
        processor = BatchSpanProcessor(
            OTLPSpanExporter(endpoint=otlp_traces_url(settings.otlp_endpoint))
        )
    # OTEL_SERVICE_NAME, when set, names the service; ours is the default.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(processor)
    return provider


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """For `Client.connect`: client interceptors that are also worker interceptors apply to
    every worker built on that client."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("lifecycle.temporal"))]


def instrument_api(app: FastAPI, provider: TracerProvider | None) -> None:
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, excluded_urls=_UNTRACED_PATHS
        )


def instrument_asyncpg(provider: TracerProvider | None) -> None:
    """asyncpg is instrumented process-wide (it patches the driver), so once per process."""
    instrumentor: Any = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if provider is not None and not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


def temporal_runtime(settings: Settings, *, serve_metrics: bool = True) -> Runtime:
    """The process's Temporal runtime: the SDK core's own log lines forwarded to the
    `temporalio.core` logger (so they are JSON with everything else, not raw stderr), and its
    metrics served for Prometheus at LIFECYCLE_TEMPORAL_METRICS_BIND when set (the worker's;
    the API passes serve_metrics=False)."""
    bind = settings.temporal_metrics_bind if serve_metrics else None
    metrics = (
        PrometheusConfig(bind_address=bind, durations_as_seconds=True) if bind is not None else None
    )
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=metrics,
        )
    )
