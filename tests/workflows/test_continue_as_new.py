"""A product lives for years, so its workflow continues as new to keep each run's history
bounded; what the runs carry between them must make that invisible to clients."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.commands import Command, GiveSignOff, RequestGateReview, SubmitEvidence, Verdict
from domain.events import EVENT_ADAPTER
from domain.evolve import evolve_all
from domain.playbook import Playbook
from domain.state import ProductState
from playbooks import load_default_playbook
from store.audit import verify_chain
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.support.journey import OWNER, commands_to_meet_criteria, gatekeeper, register
from tests.support.runs import run_lengths
from workflows.contracts import stream_id_for, workflow_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

BOUND = 40
# Commands admitted while a run winds down still land in it; this is how far past the bound
# that may take a run in these tests (each command adds about a dozen history events).
WIND_DOWN_SLACK = 30


@pytest_asyncio.fixture(loop_scope="session")
async def bounded_products(
    time_skipping_env: WorkflowEnvironment, event_store: EventStore, app_pool: asyncpg.Pool
) -> AsyncIterator[ProductLifecycleClient]:
    task_queue = f"bounded-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ProductLifecycleWorkflow],
        activities=[
            EventLogActivities(event_store).append_product_events,
            NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
        ],
    ):
        yield ProductLifecycleClient(time_skipping_env.client, task_queue, history_bound=BOUND)


def evidence(n: int) -> SubmitEvidence:
    return SubmitEvidence(
        actor=OWNER, requirement="problem-statement", title=f"Draft {n}", uri=f"https://d/{n}"
    )


async def stored_state(event_store: EventStore, product_id: str) -> ProductState:
    stored = await event_store.read_stream(stream_id_for(product_id))
    return evolve_all(ProductState(), [EVENT_ADAPTER.validate_python(r.data) for r in stored])


@pytest.fixture
def playbook() -> Playbook:
    return load_default_playbook()


async def test_every_run_stays_near_the_bound_and_the_last_one_holds_the_whole_state(
    bounded_products: ProductLifecycleClient,
    time_skipping_env: WorkflowEnvironment,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
    playbook: Playbook,
) -> None:
    await bounded_products.register(register(product_id, playbook))
    handle = time_skipping_env.client.get_workflow_handle(workflow_id_for(product_id))
    first_run = (await handle.describe()).run_id
    for n in range(30):
        await bounded_products.execute(product_id, evidence(n))

    lengths = await run_lengths(time_skipping_env.client, workflow_id_for(product_id), first_run)

    assert len(lengths) >= 3, f"expected several runs, got histories of {lengths}"
    assert max(lengths) <= BOUND + WIND_DOWN_SLACK, lengths
    view = await bounded_products.view(product_id)
    assert view.state == await stored_state(event_store, product_id)
    assert len(view.state.progress.evidence_for("problem-statement")) == 30  # type: ignore[union-attr]
    assert (await verify_chain(app_pool)).ok


async def test_a_command_retried_with_its_update_id_after_continue_as_new_is_applied_once(
    bounded_products: ProductLifecycleClient,
    time_skipping_env: WorkflowEnvironment,
    event_store: EventStore,
    product_id: str,
    playbook: Playbook,
) -> None:
    await bounded_products.register(register(product_id, playbook))
    handle = time_skipping_env.client.get_workflow_handle(workflow_id_for(product_id))
    first_run = (await handle.describe()).run_id
    first = await bounded_products.execute(product_id, evidence(0), update_id="evidence-0")
    n = 1
    while (await handle.describe()).run_id == first_run:
        await bounded_products.execute(product_id, evidence(n))
        n += 1
    version_before = (await bounded_products.view(product_id)).state.version

    retried = await bounded_products.execute(product_id, evidence(0), update_id="evidence-0")

    assert retried == first
    assert (await bounded_products.view(product_id)).state.version == version_before
    stored = await event_store.read_stream(stream_id_for(product_id))
    titles = [r.data["title"] for r in stored if r.type == "EvidenceSubmitted"]
    assert titles.count("Draft 0") == 1


async def test_a_vote_retried_after_continue_as_new_is_not_refused_as_a_second_vote(
    bounded_products: ProductLifecycleClient,
    time_skipping_env: WorkflowEnvironment,
    event_store: EventStore,
    product_id: str,
    playbook: Playbook,
) -> None:
    """Without the carried receipt the retry would be judged afresh and refused as a
    duplicate vote, and the client would wrongly report its own accepted vote as refused."""
    await bounded_products.register(register(product_id, playbook))
    for command in commands_to_meet_criteria((await bounded_products.view(product_id)).state):
        await bounded_products.execute(product_id, command)
    await bounded_products.execute(product_id, RequestGateReview(actor=OWNER))
    gate = (await bounded_products.view(product_id)).state.current_gate()
    assert gate is not None
    assert gate.sign_offs
    signer = gatekeeper(gate.sign_offs[0].role)
    vote: Command = GiveSignOff(
        actor=signer, role=gate.sign_offs[0].role, verdict=Verdict.APPROVE, reason="looks right"
    )
    accepted = await bounded_products.execute(product_id, vote, update_id="vote-1")
    handle = time_skipping_env.client.get_workflow_handle(workflow_id_for(product_id))
    run = (await handle.describe()).run_id
    n = 0
    while (await handle.describe()).run_id == run:
        await bounded_products.execute(product_id, evidence(n))
        n += 1

    retried = await bounded_products.execute(product_id, vote, update_id="vote-1")

    assert retried == accepted
    stored = await event_store.read_stream(stream_id_for(product_id))
    assert [r.type for r in stored].count("SignOffGiven") == 1
