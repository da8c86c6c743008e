"""Metrics: after a product passes a gate on the real worker composition, the worker's and the
API's /metrics show our timings, counts and gauges with values."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from domain.commands import GiveSignOff, RequestGateReview
from domain.notifications import Notification
from playbooks import load_playbook_catalog
from runtime.metrics_server import worker_health_app
from store.dead_letters import DeadLetter, DeadLetterStore
from tests.ops.conftest import OpsApi
from tests.support.journey import (
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    register,
)
from worker import build_worker
from workflows.product_client import ProductLifecycleClient

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest_asyncio.fixture(loop_scope="session")
async def composed(
    time_skipping_env: WorkflowEnvironment, app_pool: asyncpg.Pool
) -> AsyncIterator[ProductLifecycleClient]:
    """The worker exactly as `lifecycle worker` builds it (timed store, activity interceptor)."""
    task_queue = f"lifecycle-ops-{uuid.uuid4()}"
    async with build_worker(time_skipping_env.client, app_pool, task_queue):
        yield ProductLifecycleClient(time_skipping_env.client, task_queue)


async def scrape_worker() -> Samples:
    app = worker_health_app(lambda: True, {})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://worker.test"
    ) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_passing_a_gate_shows_in_the_workers_metrics(
    composed: ProductLifecycleClient, product_id: str
) -> None:
    before = await scrape_worker()
    await composed.register(register(product_id, load_playbook_catalog()["default"]))
    state = (await composed.view(product_id)).state
    commands = commands_to_meet_criteria(state) + commands_to_sign_and_pass(state)
    for command in commands:
        await composed.execute(product_id, command)

    signatures = sum(1 for c in commands if isinstance(c, GiveSignOff))
    assert signatures >= 1

    # The domain timings are observed in the background, after each append has answered.
    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for _ in range(100):
        after = await scrape_worker()
        if (
            grew("lifecycle_approval_latency_seconds_count", gate="discovery", verdict="approve")
            >= signatures
            and grew("lifecycle_stage_duration_seconds_count", stage="discovery") >= 1
        ):
            break
        await asyncio.sleep(0.05)
    assert (
        grew("lifecycle_approval_latency_seconds_count", gate="discovery", verdict="approve")
        == signatures
    )
    assert (
        grew("lifecycle_gate_decision_latency_seconds_count", gate="discovery", outcome="go") == 1
    )
    assert grew("lifecycle_stage_duration_seconds_count", stage="discovery") == 1
    assert grew("lifecycle_stage_duration_seconds_sum", stage="discovery") >= 0
    appended = grew("lifecycle_event_store_append_seconds_count", outcome="appended")
    assert appended == 1 + len(commands)  # the registration, then one append per command
    assert (
        grew(
            "lifecycle_activity_duration_seconds_count",
            activity="append_product_events",
            outcome="completed",
        )
        >= appended
    )


async def test_the_api_metrics_show_reviews_open_per_stage_and_request_latency(
    ops_api: OpsApi, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, load_playbook_catalog()["default"]))
    state = (await products.view(product_id)).state
    review_request = commands_to_sign_and_pass(state)[:1]
    assert isinstance(review_request[0], RequestGateReview)
    for command in commands_to_meet_criteria(state) + review_request:
        await products.execute(product_id, command)
    await ops_api.services.projection.catch_up()

    response = await ops_api.http.get("/metrics")

    assert response.status_code == 200
    samples = parse(response.text)
    assert value(samples, "lifecycle_gate_reviews_open", stage="discovery") == 1
    assert value(samples, "lifecycle_gate_reviews_open", stage="launch") == 0
    assert "lifecycle_notification_failures_total" in response.text
    second = parse((await ops_api.http.get("/metrics")).text)
    assert (
        value(
            second,
            "lifecycle_http_request_duration_seconds_count",
            method="GET",
            route="/metrics",
            status="200",
        )
        >= 1
    )


async def test_the_dead_letter_gauge_counts_dead_letters_nobody_replayed(
    ops_api: OpsApi, app_pool: asyncpg.Pool
) -> None:
    store = DeadLetterStore(app_pool)
    now = datetime.now(UTC)
    ids = [uuid.uuid4().hex for _ in range(3)]
    for dead_letter_id in ids:
        await store.record(
            DeadLetter(
                dead_letter_id=dead_letter_id,
                delivery_id=f"delivery-{dead_letter_id}",
                workflow_id=f"notify-{dead_letter_id}",
                endpoint="ops-hook",
                notification=Notification(
                    notification_id=f"n-{dead_letter_id}",
                    kind="decision",
                    product_id="atlas",
                    product_name="Atlas",
                    headline="Atlas: Go",
                    occurred_at=now,
                ),
                reason="attempts_exhausted",
                error="the endpoint answered 503",
                failed_at=now,
            )
        )
    await store.record_replay(ids[0], f"replay-{ids[0]}", "admin", now)

    samples = parse((await ops_api.http.get("/metrics")).text)

    assert value(samples, "lifecycle_notification_dead_letters") == 2
