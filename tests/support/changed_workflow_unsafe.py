"""A change to the product workflow made the wrong way, for tests/workflows/test_replay.py.

One workflow class per module: the sandbox re-imports a workflow's module and finds the class
by its workflow name, so two variants sharing a name must not share a module.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import LifecycleOutcome, LifecycleStart
    from workflows.product_lifecycle import ProductLifecycleWorkflow


@workflow.defn(name="ProductLifecycleWorkflow")
class PausesBeforeEveryNotice(ProductLifecycleWorkflow):
    """An unsafe change: a new timer, unguarded by `workflow.patched`, in the main loop."""

    @workflow.run
    async def run(self, start: LifecycleStart) -> LifecycleOutcome:
        return await super().run(start)

    async def _send_notices(self) -> None:
        if self._outbox:
            await workflow.sleep(timedelta(seconds=1))
        await super()._send_notices()
