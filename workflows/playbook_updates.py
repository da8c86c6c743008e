"""Adopting a newer playbook version, as an Update of the product workflow.

A mixin like `workflows.command_updates`: the validator dry-runs `decide`, the handler decides
again under the workflow's lock and appends."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.commands import AdoptPlaybook, Command
    from workflows.contracts import CommandReceipt


class PlaybookUpdates:
    async def _execute(self, command: Command) -> CommandReceipt:
        raise NotImplementedError

    def _dry_run(self, command: Command) -> None:
        raise NotImplementedError

    @workflow.update
    async def adopt_playbook(self, command: AdoptPlaybook) -> CommandReceipt:
        return await self._execute(command)

    @adopt_playbook.validator
    def _validate_adopt_playbook(self, command: AdoptPlaybook) -> None:
        self._dry_run(command)
