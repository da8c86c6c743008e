"""The floor we are measured against: a hand-rolled Temporal app with nothing of ours in it.

One workflow per thing; each command is an Update whose handler awaits one activity and
answers. No validator, no domain, no event store. `BareStep.durable` picks the activity:
a no-op (bare Temporal), or one plain INSERT into Postgres (bare Temporal plus the cheapest
durable write, no chain and no checks).
"""

from __future__ import annotations

import uuid

import asyncpg
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.bare_workflow import BARE_ACTIVITY, BareStep, BareWorkflow

__all__ = ["BareActivities", "BareClient", "BareStep", "BareWorkflow", "bare_worker", "prepare"]

_CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_bare_steps (id bigserial PRIMARY KEY, workflow_id text"
    " NOT NULL, payload text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
)
_INSERT = "INSERT INTO bench_bare_steps (workflow_id, payload) VALUES ($1, $2)"


class BareActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=BARE_ACTIVITY)
    async def step(self, step: BareStep) -> str:
        if step.durable:
            await self._pool.execute(_INSERT, activity.info().workflow_id, step.payload)
        return step.payload


async def prepare(superuser_dsn: str) -> None:
    """The table the durable variant writes to (created by the superuser, like a migration)."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        await conn.execute(_CREATE)
    finally:
        await conn.close()


def bare_worker(
    client: Client, pool: asyncpg.Pool, task_queue: str, *, cache_size: int = 1000
) -> Worker:
    """``cache_size`` is the SDK's default unless a bench gives both systems another."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[BareActivities(pool).step],
        max_cached_workflows=cache_size,
    )


class BareClient:
    """Starts a bare workflow with its first step (update-with-start, as we register) and
    sends the rest as plain updates."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    async def start(self, workflow_id: str, step: BareStep) -> str:
        start = WithStartWorkflowOperation(
            BareWorkflow.run,
            id=workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        answer: str = await self._client.execute_update_with_start_workflow(
            BareWorkflow.step, step, start_workflow_operation=start
        )
        return answer

    async def step(self, workflow_id: str, step: BareStep, update_id: str | None = None) -> str:
        handle = self._client.get_workflow_handle(workflow_id)
        answer: str = await handle.execute_update(
            BareWorkflow.step, step, id=update_id or str(uuid.uuid4())
        )
        return answer
