"""Many people acting on one product at the same second, on the real Temporal dev server (which
refuses more than a handful of in-flight updates per workflow): every command gets an answer,
none is lost, none counted twice."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.commands import GiveSignOff, RequestGateReview, Verdict
from domain.playbook import Playbook
from domain.refusals import CommandRefused
from domain.stages import LIFECYCLE_PATH, Stage
from runtime.embedded_temporal import temporal_binary
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.support.journey import OWNER, gatekeeper, register
from workflows.contracts import stream_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

SIGNERS = 85  # plus 15 second votes: 100 requests at the same moment
pytestmark = pytest.mark.timeout(300)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), data_converter=pydantic_data_converter
    )
    yield env
    await env.shutdown()


def crowd_playbook() -> Playbook:
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {"title": f"{stage.value} gate", "decider_roles": ["product-lead"]}
        stages.append(entry)
    stages[0]["exit_gate"]["sign_offs"] = [{"role": "product-lead", "min_approvals": 50}]
    return Playbook.model_validate(
        {
            "name": "crowd",
            "version": 1,
            "title": "Crowd",
            "roles": [{"key": r, "title": r} for r in ("product-manager", "product-lead")],
            "stages": stages,
        }
    )


async def test_a_crowd_signing_one_product_at_once_gets_an_answer_each_and_counts_once(
    dev_server: WorkflowEnvironment, event_store: EventStore, app_pool: Any
) -> None:
    task_queue = f"crowd-{uuid.uuid4()}"
    product_id = f"crowd-{uuid.uuid4().hex[:8]}"
    async with Worker(
        dev_server.client,
        task_queue=task_queue,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
        max_concurrent_activities=20,
    ):
        # The patience the API runs with: every answer must come within it.
        products = ProductLifecycleClient(dev_server.client, task_queue)
        await products.register(register(product_id, crowd_playbook()))
        await products.execute(product_id, RequestGateReview(actor=OWNER))
        people = [gatekeeper("product-lead", n) for n in range(1, SIGNERS + 1)]
        votes = [
            GiveSignOff(actor=person, role="product-lead", verdict=Verdict.APPROVE)
            for person in people + people[:15]  # 15 people try to vote twice
        ]

        answers = await asyncio.gather(
            *(products.execute(product_id, vote) for vote in votes), return_exceptions=True
        )

    accepted = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, CommandRefused)]
    unexpected = [a for a in answers if isinstance(a, BaseException) and a not in refused]
    assert unexpected == []
    assert len(accepted) == SIGNERS
    assert len(refused) == 15
    assert {r.rule for r in refused} == {"signoff.duplicate_vote"}
    stored = await event_store.read_stream(stream_id_for(product_id))
    signers = [e.data["actor"]["subject"] for e in stored if e.type == "SignOffGiven"]
    assert sorted(signers) == sorted(p.subject for p in people)
    assert [e.stream_version for e in stored] == list(range(1, len(stored) + 1))
