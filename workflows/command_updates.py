"""The people's commands as Updates of the product workflow (registration aside).

A mixin so the workflow module stays small; each Update follows one pattern: the validator
dry-runs `decide`, the handler decides again under the lock, appends, then folds."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.commands import (
        Command,
        CompleteChecklistItem,
        DecideGate,
        GiveSignOff,
        MeetCondition,
        PlanLaunch,
        ProposeSunset,
        RecordExperiment,
        RecordMetric,
        ReopenChecklistItem,
        RequestGateReview,
        RevokeSignOff,
        SetLaunchGoal,
        SubmitEvidence,
    )
    from workflows.contracts import CommandReceipt


class CommandUpdates:
    async def _execute(self, command: Command) -> CommandReceipt:
        raise NotImplementedError

    def _dry_run(self, command: Command) -> None:
        raise NotImplementedError

    @workflow.update
    async def submit_evidence(self, command: SubmitEvidence) -> CommandReceipt:
        return await self._execute(command)

    @submit_evidence.validator
    def _validate_submit_evidence(self, command: SubmitEvidence) -> None:
        self._dry_run(command)

    @workflow.update
    async def complete_checklist_item(self, command: CompleteChecklistItem) -> CommandReceipt:
        return await self._execute(command)

    @complete_checklist_item.validator
    def _validate_complete_checklist_item(self, command: CompleteChecklistItem) -> None:
        self._dry_run(command)

    @workflow.update
    async def reopen_checklist_item(self, command: ReopenChecklistItem) -> CommandReceipt:
        return await self._execute(command)

    @reopen_checklist_item.validator
    def _validate_reopen_checklist_item(self, command: ReopenChecklistItem) -> None:
        self._dry_run(command)

    @workflow.update
    async def record_metric(self, command: RecordMetric) -> CommandReceipt:
        return await self._execute(command)

    @record_metric.validator
    def _validate_record_metric(self, command: RecordMetric) -> None:
        self._dry_run(command)

    @workflow.update
    async def request_gate_review(self, command: RequestGateReview) -> CommandReceipt:
        return await self._execute(command)

    @request_gate_review.validator
    def _validate_request_gate_review(self, command: RequestGateReview) -> None:
        self._dry_run(command)

    @workflow.update
    async def give_sign_off(self, command: GiveSignOff) -> CommandReceipt:
        return await self._execute(command)

    @give_sign_off.validator
    def _validate_give_sign_off(self, command: GiveSignOff) -> None:
        self._dry_run(command)

    @workflow.update
    async def revoke_sign_off(self, command: RevokeSignOff) -> CommandReceipt:
        return await self._execute(command)

    @revoke_sign_off.validator
    def _validate_revoke_sign_off(self, command: RevokeSignOff) -> None:
        self._dry_run(command)

    @workflow.update
    async def meet_condition(self, command: MeetCondition) -> CommandReceipt:
        return await self._execute(command)

    @meet_condition.validator
    def _validate_meet_condition(self, command: MeetCondition) -> None:
        self._dry_run(command)

    @workflow.update
    async def decide_gate(self, command: DecideGate) -> CommandReceipt:
        return await self._execute(command)

    @decide_gate.validator
    def _validate_decide_gate(self, command: DecideGate) -> None:
        self._dry_run(command)

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
