"""The example of changing the product workflow safely, with `workflow.patched`.

The steps (README, "Changing workflow code safely"): guard the new behaviour with
`workflow.patched(id)`; ship; once no open run predates the change (or all have continued as
new), replace `patched` by `workflow.deprecate_patch(id)`; ship; later remove the guard.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import LifecycleOutcome, LifecycleStart
    from workflows.product_lifecycle import ProductLifecycleWorkflow


@workflow.defn(name="ProductLifecycleWorkflow")
class PausesBeforeNewNoticesOnly(ProductLifecycleWorkflow):
    """The same change made safely: old histories take the old path, new runs the new one."""

    @workflow.run
    async def run(self, start: LifecycleStart) -> LifecycleOutcome:
        return await super().run(start)

    async def _send_notices(self) -> None:
        if self._outbox and workflow.patched("pause-before-notices"):
            await workflow.sleep(timedelta(seconds=1))
        await super()._send_notices()
