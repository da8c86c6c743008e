"""The worker's activity interceptor: one canonical line per activity attempt carrying the
product, workflow and actor; notification failures counted for alerting."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from runtime.telemetry_activities import ActivityContextInterceptor
from tests.ops.conftest import CapturedLogs

FAILURES = "lifecycle_notification_failures_total"


@dataclass
class Delivery:
    endpoint: str


@activity.defn(name="ops_test_deliver")
async def deliver(delivery: Delivery) -> str:
    activity.logger.info("delivering to %s", delivery.endpoint)
    if delivery.endpoint == "refusing-hook":
        raise ApplicationError("the endpoint answered 410", non_retryable=True)
    return "sent"


@workflow.defn(name="OpsTestDelivery", sandboxed=False)
class DeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: Delivery) -> str:
        result: str = await workflow.execute_activity(
            deliver,
            delivery,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


async def run_delivery(env: WorkflowEnvironment, endpoint: str, workflow_id: str) -> str:
    task_queue = f"ops-activity-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DeliveryWorkflow],
        activities=[deliver],
        interceptors=[ActivityContextInterceptor({"ops_test_deliver"})],
    ):
        result: str = await env.client.execute_workflow(
            DeliveryWorkflow.run, Delivery(endpoint), id=workflow_id, task_queue=task_queue
        )
        return result


async def test_each_activity_attempt_ends_in_one_canonical_line_with_its_context(
    logs: CapturedLogs, time_skipping_env: WorkflowEnvironment
) -> None:
    product = uuid.uuid4().hex[:8]

    assert await run_delivery(time_skipping_env, "ok-hook", f"product-{product}") == "sent"

    [line] = logs.named("activity.finished")
    assert line["outcome"] == "completed"
    assert line["activity"] == "ops_test_deliver"
    assert line["attempt"] == 1
    assert line["workflow_id"] == f"product-{product}"
    assert line["product_id"] == product
    assert line["duration_ms"] >= 0
    [inner] = [x for x in logs.lines() if x.get("event", "").startswith("delivering to")]
    assert inner["product_id"] == product  # the activity's own lines carry the context too
    assert inner["logger"] == "temporalio.activity"


async def test_a_failed_notification_activity_is_logged_and_counted(
    logs: CapturedLogs, time_skipping_env: WorkflowEnvironment
) -> None:
    labels = {"activity": "ops_test_deliver", "endpoint": "refusing-hook"}
    before = REGISTRY.get_sample_value(FAILURES, labels) or 0.0

    with pytest.raises(WorkflowFailureError):
        await run_delivery(time_skipping_env, "refusing-hook", f"delivery-{uuid.uuid4().hex}")

    assert REGISTRY.get_sample_value(FAILURES, labels) == before + 1
    [line] = logs.named("activity.finished")
    assert line["outcome"] == "failed"
    assert line["level"] == "warning"
    assert line["error_type"] == "ApplicationError"
    assert line["error"] == "the endpoint answered 410"
    assert "product_id" not in line
