"""Records the histories that every later version of the product workflow must replay.

Run once per released workflow shape, from the commit that releases it:

    .venv/bin/python -m tests.histories.record v2

It drives a set of journeys on a time-skipping Temporal server and a throwaway embedded
Postgres and writes `tests/histories/<shape>-<journey>.json` (`fetch_history().to_json()`).
Commit the files; `tests/workflows/test_replay.py` replays every one of them against the
current code, so a change that would break a running product fails CI instead of production.
Never re-record an existing shape: its files are the record of what is running out there.
"""

import asyncio
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_log import EventLogActivities
from activities.notifications import NotificationActivities
from domain.commands import (
    AdoptPlaybook,
    DecideGate,
    GateOutcome,
    MeetCondition,
    RequestGateReview,
    SubmitEvidence,
)
from domain.playbook import Playbook
from domain.stages import LIFECYCLE_PATH, Stage
from playbooks import load_default_playbook
from runtime.embedded_postgres import start_embedded_postgres
from store.dsn import with_database
from store.event_store import EventStore
from store.migrations import create_app_pool, migrate
from store.notification_outbox import NotificationOutbox
from tests.domain.dsl import LINUS, go, tick
from tests.domain.plans import launch_work, propose_sunset
from tests.support.journey import (
    OWNER,
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    gatekeeper,
    register,
)
from tests.support.playbook_versions import V1 as PLAYBOOK_V1
from tests.support.playbook_versions import V2 as PLAYBOOK_V2
from tests.support.temporal_fixtures import TEST_SERVER
from tests.workflows.plan_steps import product_in
from workflows.contracts import HISTORY_BOUND, workflow_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

HERE = Path(__file__).parent
Journey = Callable[[ProductLifecycleClient, WorkflowEnvironment, str], Awaitable[None]]


def timed_review_playbook() -> Playbook:
    """One gate with a review clock, so reminders, escalation and time-out are in history."""
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {"title": f"{stage.value} gate", "decider_roles": ["product-lead"]}
        stages.append(entry)
    stages[0]["exit_gate"].update(
        sign_offs=[{"role": "product-lead"}],
        review={"sla": "P10D", "remind_every": "P3D", "escalate_to": "exec-sponsor"},
    )
    return Playbook.model_validate(
        {
            "name": "timed-review",
            "version": 1,
            "title": "Timed review",
            "roles": [
                {"key": r, "title": r} for r in ("product-manager", "product-lead", "exec-sponsor")
            ],
            "stages": stages,
        }
    )


async def pass_current_gate(products: ProductLifecycleClient, product_id: str) -> None:
    for command in commands_to_meet_criteria((await products.view(product_id)).state):
        await products.execute(product_id, command)
    for command in commands_to_sign_and_pass((await products.view(product_id)).state):
        await products.execute(product_id, command)


async def every_stage_to_retired(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    await products.register(register(product_id, load_default_playbook()))
    while not (await products.view(product_id)).state.is_terminal:
        await pass_current_gate(products, product_id)


async def review_reminded_escalated_and_timed_out(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    await products.register(register(product_id, timed_review_playbook()))
    await products.execute(product_id, RequestGateReview(actor=OWNER, note="please sign"))
    for _ in range(4):
        await env.sleep(timedelta(days=3, hours=1))
        await asyncio.sleep(0.5)


async def held_resumed_conditional_go_then_killed(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    await products.register(register(product_id, load_default_playbook()))
    decider = commands_to_sign_and_pass((await products.view(product_id)).state)[-1].actor
    await products.execute(
        product_id, DecideGate(actor=decider, outcome=GateOutcome.HOLD, reason="budget freeze")
    )
    await products.execute(
        product_id, DecideGate(actor=decider, outcome=GateOutcome.RESUME, reason="budget back")
    )
    for command in commands_to_meet_criteria((await products.view(product_id)).state):
        await products.execute(product_id, command)
    signing = commands_to_sign_and_pass((await products.view(product_id)).state)
    for command in signing[:-1]:
        await products.execute(product_id, command)
    await products.execute(
        product_id,
        DecideGate(
            actor=signing[-1].actor,
            outcome=GateOutcome.CONDITIONAL_GO,
            reason="go, once pricing is validated",
            conditions=("Validate pricing with five customers",),
        ),
    )
    condition = (await products.view(product_id)).state.conditions[0]
    await products.execute(
        product_id,
        MeetCondition(actor=OWNER, condition_id=condition.condition_id, note="five calls done"),
    )
    lead = gatekeeper("product-lead", 99)
    await products.execute(
        product_id, DecideGate(actor=lead, outcome=GateOutcome.KILL, reason="market moved")
    )


async def launched_grown_and_sunset_on_its_date(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    """GTM items falling due, two KPI reviews, and the end-of-life timer retiring it."""
    await product_in(products, product_id, Stage.LAUNCH)
    await _pass_time(env, timedelta(days=31))
    launched_at = (await products.view(product_id)).state.stage_entered_at
    assert launched_at is not None
    for command in (*launch_work(launched_at), go()):
        await products.execute(product_id, command)
    await _pass_time(env, timedelta(days=31), times=2)
    await products.execute(product_id, go(reason="growth has plateaued"))
    entered = (await products.view(product_id)).state.stage_entered_at
    assert entered is not None
    await products.execute(product_id, propose_sunset(entered + timedelta(days=120)))
    await products.execute(product_id, go(reason="sunset approved"))
    await _pass_time(env, timedelta(days=61))
    await _pass_time(env, timedelta(days=59, hours=12))
    await products.execute(product_id, tick("data-deleted", by=LINUS))
    await _pass_time(env, timedelta(days=1))


async def moved_to_newer_playbook_versions(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    """A version adopted at the next stage entry, then another migrated at once."""
    await products.register(register(product_id, PLAYBOOK_V1))
    lead = gatekeeper("product-lead", 99)
    await products.execute(
        product_id, AdoptPlaybook(actor=lead, playbook=PLAYBOOK_V2, reason="eight interviews")
    )
    await pass_current_gate(products, product_id)
    third = Playbook.model_validate({**PLAYBOOK_V2.model_dump(mode="json"), "version": 3})
    await products.execute(
        product_id,
        AdoptPlaybook(actor=lead, playbook=third, effective="now", reason="v3 at once"),
    )


async def continued_as_new_carrying_recent_updates(
    products: ProductLifecycleClient, env: WorkflowEnvironment, product_id: str
) -> None:
    """Recorded with a small history bound: the saved run is the latest, started by
    continue-as-new with the state and the receipts of recent updates as its input."""
    await products.register(register(product_id, load_default_playbook()))
    for n in range(12):
        await products.execute(
            product_id,
            SubmitEvidence(actor=OWNER, requirement="problem-statement", title=f"Draft {n}"),
            update_id=f"{product_id}-draft-{n}",
        )


async def _pass_time(env: WorkflowEnvironment, span: timedelta, times: int = 1) -> None:
    for _ in range(times):
        await env.sleep(span)
        await asyncio.sleep(0.5)  # the worker's reaction to the timer arrives in real time


JOURNEYS: dict[str, Journey] = {
    "every-stage-to-retired": every_stage_to_retired,
    "review-reminded-escalated-timed-out": review_reminded_escalated_and_timed_out,
    "held-resumed-conditional-go-killed": held_resumed_conditional_go_then_killed,
    "launched-grown-and-sunset-on-its-date": launched_grown_and_sunset_on_its_date,
    "moved-to-newer-playbook-versions": moved_to_newer_playbook_versions,
    "continued-as-new-carrying-recent-updates": continued_as_new_carrying_recent_updates,
}
# Journeys run with this history bound, so their saved history is a continued run's.
BOUNDED = {"continued-as-new-carrying-recent-updates": 40}


async def record(shape: str) -> dict[str, str]:
    """History JSON by journey name."""
    base = Path(tempfile.mkdtemp(prefix="lifecycle-record-"))
    postgres = start_embedded_postgres(base / "pgdata")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    histories: dict[str, str] = {}
    try:
        admin = await asyncpg.connect(postgres.dsn)
        await admin.execute('CREATE DATABASE "record"')
        await admin.close()
        dsn = with_database(postgres.dsn, "record")
        await migrate(dsn)
        pool = await create_app_pool(dsn)
        task_queue = f"record-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[ProductLifecycleWorkflow],
            activities=[
                EventLogActivities(EventStore(pool)).append_product_events,
                NotificationActivities(NotificationOutbox(pool)).notify_stakeholders,
            ],
        ):
            for name, journey in JOURNEYS.items():
                product_id = f"{shape}-{name}"
                products = ProductLifecycleClient(
                    env.client, task_queue, history_bound=BOUNDED.get(name, HISTORY_BOUND)
                )
                await journey(products, env, product_id)
                handle = env.client.get_workflow_handle(workflow_id_for(product_id))
                histories[name] = (await handle.fetch_history()).to_json()
        await pool.close()
    finally:
        await env.shutdown()
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)
    return histories


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].isidentifier():
        sys.exit("usage: python -m tests.histories.record SHAPE   (e.g. v2)")
    shape = sys.argv[1]
    if any(HERE.glob(f"{shape}-*.json")):
        sys.exit(
            f"histories for shape '{shape}' exist already; a released shape is never re-recorded"
        )
    for name, history in asyncio.run(record(shape)).items():
        path = HERE / f"{shape}-{name}.json"
        path.write_text(history + "\n")
        print(path)


if __name__ == "__main__":
    main()
