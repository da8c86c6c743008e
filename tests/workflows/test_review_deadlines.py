"""Review deadlines on durable timers, across weeks of simulated time (time-skipping server)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.commands import DecideGate, GateOutcome, GiveSignOff, RequestGateReview, Verdict
from domain.playbook import Playbook
from domain.stages import LIFECYCLE_PATH, Stage
from store.event_store import EventStore
from store.notification_outbox import NotificationOutbox
from tests.support.journey import OWNER, gatekeeper, register
from workflows.contracts import stream_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

LEAD = gatekeeper("product-lead")


def deadline_playbook(on_timeout: str) -> Playbook:
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {"title": f"{stage.value} gate", "decider_roles": ["product-lead"]}
        stages.append(entry)
    stages[0]["exit_gate"].update(
        sign_offs=[{"role": "product-lead"}],
        review={
            "sla": "P10D",
            "remind_every": "P3D",
            "escalate_to": "exec-sponsor",
            "on_timeout": on_timeout,
        },
    )
    return Playbook.model_validate(
        {
            "name": "deadlines",
            "version": 1,
            "title": "Deadlines",
            "roles": [
                {"key": r, "title": r} for r in ("product-manager", "product-lead", "exec-sponsor")
            ],
            "stages": stages,
        }
    )


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Timers fire on the server; the worker's reaction arrives a moment later in real time."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def stored_types(event_store: EventStore, product_id: str) -> list[str]:
    return [e.type for e in await event_store.read_stream(stream_id_for(product_id))]


async def open_review(products: ProductLifecycleClient, product_id: str, on_timeout: str) -> None:
    await products.register(register(product_id, deadline_playbook(on_timeout)))
    await products.execute(product_id, RequestGateReview(actor=OWNER, note="please sign"))


@pytest.mark.parametrize("on_timeout", ["escalate", "auto_reject", "hold"])
async def test_approvers_are_reminded_then_the_review_escalates_and_times_out(
    time_skipping_env: WorkflowEnvironment,
    products: ProductLifecycleClient,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
    on_timeout: str,
) -> None:
    await open_review(products, product_id, on_timeout)

    await time_skipping_env.sleep(timedelta(days=3, hours=1))

    async def reminded(times: int) -> bool:
        return (await stored_types(event_store, product_id)).count("ApproversReminded") == times

    await eventually(lambda: reminded(1))
    await time_skipping_env.sleep(timedelta(days=3))
    await eventually(lambda: reminded(2))
    await time_skipping_env.sleep(timedelta(days=4))

    async def timed_out() -> bool:
        return "ReviewTimedOut" in await stored_types(event_store, product_id)

    await eventually(timed_out)
    types = await stored_types(event_store, product_id)
    assert types.count("ApproversReminded") == 3
    assert types[-2:] == ["ReviewEscalated", "ReviewTimedOut"]
    stored = await event_store.read_stream(stream_id_for(product_id))
    assert stored[-1].data["outcome"] == on_timeout
    assert stored[-2].data["to_role"] == "exec-sponsor"
    view = await products.view(product_id)
    assert view.state.on_hold is (on_timeout == "hold")
    sign_off = next(c for c in view.gate.criteria if c.key == "product-lead") if view.gate else None
    assert sign_off is not None
    assert sign_off.passed is False
    if on_timeout == "auto_reject":
        assert "no decision by the deadline" in sign_off.reason
    assert view.next_review_alarm is None

    await time_skipping_env.sleep(timedelta(days=30))
    await asyncio.sleep(0.3)
    assert await stored_types(event_store, product_id) == types

    outbox = NotificationOutbox(app_pool)

    async def notified() -> bool:
        kinds = {n.kind for n in await outbox.list(product_id=product_id)}
        return {"approval_requested", "reminder", "escalation", "review_timed_out"} <= kinds

    await eventually(notified)


async def test_deciding_the_gate_cancels_its_reminders(
    time_skipping_env: WorkflowEnvironment,
    products: ProductLifecycleClient,
    event_store: EventStore,
    product_id: str,
) -> None:
    await open_review(products, product_id, "escalate")
    await time_skipping_env.sleep(timedelta(days=3, hours=1))

    async def reminded_once() -> bool:
        return (await stored_types(event_store, product_id)).count("ApproversReminded") == 1

    await eventually(reminded_once)
    await products.execute(
        product_id, GiveSignOff(actor=LEAD, role="product-lead", verdict=Verdict.APPROVE)
    )
    await products.execute(
        product_id,
        DecideGate(actor=gatekeeper("product-lead", 2), outcome=GateOutcome.GO, reason="signed"),
    )
    before = await stored_types(event_store, product_id)

    await time_skipping_env.sleep(timedelta(days=60))
    await asyncio.sleep(0.3)

    assert await stored_types(event_store, product_id) == before
    assert (await products.view(product_id)).state.stage is Stage.PLANNING


async def test_a_review_records_its_due_date_and_arms_the_first_reminder(
    time_skipping_env: WorkflowEnvironment,
    products: ProductLifecycleClient,
    event_store: EventStore,
    product_id: str,
) -> None:
    await open_review(products, product_id, "auto_reject")
    view = await products.view(product_id)
    assert view.state.progress is not None
    assert view.state.progress.review is not None
    due = view.state.progress.review.due_at
    assert due is not None
    assert view.next_review_alarm == view.state.progress.review.requested_at + timedelta(days=3)
    assert due - view.state.progress.review.requested_at == timedelta(days=10)


async def test_review_timers_survive_a_worker_restart(
    time_skipping_env: WorkflowEnvironment,
    event_store: EventStore,
    app_pool: asyncpg.Pool,
    product_id: str,
) -> None:
    task_queue = f"restart-{product_id}"

    def new_worker() -> Worker:
        # No workflow cache, so nothing waits on the stopped worker's sticky queue: the next
        # worker replays the history from scratch, as after a crash.
        return Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            max_cached_workflows=0,
            workflows=[ProductLifecycleWorkflow],
            activities=[
                EventLogActivities(event_store).append_product_events,
                NotificationActivities(NotificationOutbox(app_pool)).notify_stakeholders,
            ],
        )

    async with new_worker():
        products = ProductLifecycleClient(time_skipping_env.client, task_queue)
        await open_review(products, product_id, "auto_reject")
        outbox = NotificationOutbox(app_pool)

        async def requested() -> bool:
            return bool(await outbox.list(product_id=product_id, kind="approval_requested"))

        await eventually(requested)  # stop between tasks, not in the middle of an activity
    # The first worker is gone, with its cache; a fresh one replays and keeps the timers.
    async with new_worker():
        await time_skipping_env.sleep(timedelta(days=11))

        async def timed_out() -> bool:
            return "ReviewTimedOut" in await stored_types(event_store, product_id)

        await eventually(timed_out, seconds=20)
        view = await products.view(product_id)

    assert view.state.progress is not None
    assert view.state.progress.review is not None
    assert view.state.progress.review.timed_out == "auto_reject"
