"""The bare workflow: one Update whose handler awaits one activity. Its own module, importing
nothing but temporalio, because the workflow sandbox re-imports a workflow's module and must
not re-import a database driver's C extension."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

BARE_ACTIVITY = "bare_step"


@dataclass(frozen=True)
class BareStep:
    payload: str
    durable: bool = False
    last: bool = False  # the thing is done after this step; its workflow completes


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def step(self, step: BareStep) -> str:
        answer: str = await workflow.execute_activity(
            BARE_ACTIVITY, step, start_to_close_timeout=timedelta(seconds=30), result_type=str
        )
        if step.last:
            self._done = True
        return answer
