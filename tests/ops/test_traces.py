"""Traces: off by default, OTLP/HTTP when configured; with a provider, an API request is a
server span and the Temporal call it makes is a child span of it. Spans stay in memory here."""

import asyncpg
import pytest
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.testing import WorkflowEnvironment

from runtime.settings import Settings
from runtime.telemetry import (
    instrument_asyncpg,
    otlp_traces_url,
    temporal_interceptors,
    tracer_provider,
)
from tests.ops.conftest import OpsApi
from tests.support.journey import OWNER
from worker import connect_temporal
from workflows.product_client import ProductLifecycleClient


def test_tracing_is_off_unless_a_collector_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIFECYCLE_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)

    assert tracer_provider(Settings(), "lifecycle-api") is None
    assert temporal_interceptors(None) == []


def test_the_standard_otel_variable_configures_the_otlp_http_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIFECYCLE_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")

    settings = Settings()
    provider = tracer_provider(settings, "lifecycle-api")

    assert settings.otlp_endpoint == "http://collector:4318"
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "lifecycle-api"
    provider.shutdown()  # nothing was recorded, so nothing is sent
    assert otlp_traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert otlp_traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


async def test_an_api_request_produces_a_server_span_named_by_its_route(
    ops_api: OpsApi, spans: InMemorySpanExporter
) -> None:
    owner = await ops_api.person(OWNER.subject, *OWNER.roles)

    response = await ops_api.http.get("/products", headers=owner)
    await ops_api.http.get("/healthz")

    assert response.status_code == 200
    server = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in server] == ["GET /products"]  # health checks are not traced
    assert server[0].attributes is not None
    assert server[0].attributes["http.status_code"] == 200
    assert server[0].resource.attributes["service.name"] == "lifecycle-test"


async def test_the_temporal_call_of_a_request_is_in_the_same_trace_as_its_server_span(
    ops_api: OpsApi,
    spans: InMemorySpanExporter,
    traced: TracerProvider,
    time_skipping_env: WorkflowEnvironment,
    products: ProductLifecycleClient,
    product_id: str,
) -> None:
    traced_client = await connect_temporal(
        time_skipping_env.client.service_client.config.target_host,
        "default",
        interceptors=temporal_interceptors(traced),
    )
    ops_api.services.products = ProductLifecycleClient(traced_client, products.task_queue)
    owner = await ops_api.person(OWNER.subject, *OWNER.roles)

    response = await ops_api.http.post(
        "/products",
        json={"id": product_id, "name": "Atlas Search", "description": "Search for teams"},
        headers=owner,
    )

    assert response.status_code == 201, response.text
    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.kind is SpanKind.SERVER]
    temporal = [s for s in finished if "ProductLifecycle" in s.name]
    assert temporal, [s.name for s in finished]
    assert all(s.context.trace_id == server.context.trace_id for s in temporal)


def test_otel_service_name_names_the_service_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "lifecycle-api-eu")

    provider = tracer_provider(Settings(), "lifecycle-api")

    assert provider is not None
    assert provider.resource.attributes["service.name"] == "lifecycle-api-eu"
    provider.shutdown()


async def test_asyncpg_queries_become_spans_once_instrumented(
    app_pool: asyncpg.Pool, traced: TracerProvider, spans: InMemorySpanExporter
) -> None:
    instrument_asyncpg(traced)
    try:
        await app_pool.fetchval("SELECT count(*) FROM public.product_states")
    finally:
        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    await app_pool.fetchval("SELECT 1")  # after: no longer traced

    queries = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(queries) == 1
    assert queries[0].attributes is not None
    assert "product_states" in str(queries[0].attributes.get("db.statement"))
