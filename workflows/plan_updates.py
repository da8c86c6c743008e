"""The launch, growth and sunset commands as Updates of the product workflow.

A mixin so the workflow module stays small; each Update follows the workflow's pattern: the
validator dry-runs `decide`, the handler decides again under the lock and appends."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.commands import (
        Command,
        PlanLaunch,
        ProposeSunset,
        RecordExperiment,
        SetLaunchGoal,
    )
    from workflows.contracts import CommandReceipt


class PlanUpdates:
    async def _execute(self, command: Command) -> CommandReceipt:
        raise NotImplementedError

    def _dry_run(self, command: Command) -> None:
        raise NotImplementedError

    @workflow.update
    async def plan_launch(self, command: PlanLaunch) -> CommandReceipt:
        return await self._execute(command)

    @plan_launch.validator
    def _validate_plan_launch(self, command: PlanLaunch) -> None:
        self._dry_run(command)

    @workflow.update
    async def set_launch_goal(self, command: SetLaunchGoal) -> CommandReceipt:
        return await self._execute(command)

    @set_launch_goal.validator
    def _validate_set_launch_goal(self, command: SetLaunchGoal) -> None:
        self._dry_run(command)

    @workflow.update
    async def record_experiment(self, command: RecordExperiment) -> CommandReceipt:
        return await self._execute(command)

    @record_experiment.validator
    def _validate_record_experiment(self, command: RecordExperiment) -> None:
        self._dry_run(command)

    @workflow.update
    async def propose_sunset(self, command: ProposeSunset) -> CommandReceipt:
        return await self._execute(command)

    @propose_sunset.validator
    def _validate_propose_sunset(self, command: ProposeSunset) -> None:
        self._dry_run(command)
