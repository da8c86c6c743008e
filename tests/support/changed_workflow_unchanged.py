"""The product workflow subclassed with no change at all: the control for the variants.

If this replays, a variant's failure comes from its change, not from subclassing.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import LifecycleOutcome, LifecycleStart
    from workflows.product_lifecycle import ProductLifecycleWorkflow


@workflow.defn(name="ProductLifecycleWorkflow")
class Unchanged(ProductLifecycleWorkflow):
    @workflow.run
    async def run(self, start: LifecycleStart) -> LifecycleOutcome:
        return await super().run(start)
