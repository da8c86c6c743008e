"""The one way the API, CLI, demo and tests talk to product workflows.

It turns Temporal's failure shapes back into the domain's `CommandRefused`, so every caller
maps a refusal the same way whether a validator, a handler or the server said no.
"""

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import (
    AdoptPlaybook,
    Command,
    CompleteChecklistItem,
    DecideGate,
    GiveSignOff,
    MeetCondition,
    PlanLaunch,
    ProposeSunset,
    RecordExperiment,
    RecordMetric,
    RegisterProduct,
    ReopenChecklistItem,
    RequestGateReview,
    RevokeSignOff,
    SetLaunchGoal,
    SubmitEvidence,
)
from domain.refusals import CommandRefused, RefusalKind
from workflows.contracts import (
    HISTORY_BOUND,
    CommandReceipt,
    LifecycleOutcome,
    LifecycleStart,
    ProductView,
    workflow_id_for,
)
from workflows.product_lifecycle import REFUSAL_ERROR_TYPE, ProductLifecycleWorkflow

_UPDATE_FOR: dict[type[Any], Any] = {
    SubmitEvidence: ProductLifecycleWorkflow.submit_evidence,
    CompleteChecklistItem: ProductLifecycleWorkflow.complete_checklist_item,
    ReopenChecklistItem: ProductLifecycleWorkflow.reopen_checklist_item,
    RecordMetric: ProductLifecycleWorkflow.record_metric,
    RequestGateReview: ProductLifecycleWorkflow.request_gate_review,
    GiveSignOff: ProductLifecycleWorkflow.give_sign_off,
    RevokeSignOff: ProductLifecycleWorkflow.revoke_sign_off,
    MeetCondition: ProductLifecycleWorkflow.meet_condition,
    DecideGate: ProductLifecycleWorkflow.decide_gate,
    PlanLaunch: ProductLifecycleWorkflow.plan_launch,
    SetLaunchGoal: ProductLifecycleWorkflow.set_launch_goal,
    RecordExperiment: ProductLifecycleWorkflow.record_experiment,
    ProposeSunset: ProductLifecycleWorkflow.propose_sunset,
    AdoptPlaybook: ProductLifecycleWorkflow.adopt_playbook,
}


# Seconds a command waits its turn on a busy product before the caller hears so.
DEFAULT_BUSY_PATIENCE = 30.0


class ProductLifecycleClient:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        busy_patience: float = DEFAULT_BUSY_PATIENCE,
        publish_search_attributes: bool = False,
        history_bound: int = HISTORY_BOUND,
    ) -> None:
        """`publish_search_attributes` only where the namespace registered them (see
        `workflows.visibility.require_search_attributes`); `history_bound` caps each run's
        history before the workflow continues as new."""
        self._client = client
        self._task_queue = task_queue
        self._busy_patience = busy_patience
        self._publish_search_attributes = publish_search_attributes
        self._history_bound = history_bound

    @property
    def task_queue(self) -> str:
        return self._task_queue

    async def register(
        self, command: RegisterProduct, *, update_id: str | None = None
    ) -> CommandReceipt:
        """Starts the product's workflow and registers it in one round trip (update-with-start).
        ``update_id`` makes a client's retry answer the first registration instead of being
        refused as a second one (while the product's first run holds it).

        A product id is never reused: a retired or killed product keeps its id and its trail.
        The server refuses the start then (the id's reuse policy); no describe is sent first,
        which would cost every registration a round trip to spare the rare refused one.
        """
        start = WithStartWorkflowOperation(
            ProductLifecycleWorkflow.run,
            LifecycleStart(
                product_id=command.product_id,
                publish_search_attributes=self._publish_search_attributes,
                history_bound=self._history_bound,
            ),
            id=workflow_id_for(command.product_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            receipt: CommandReceipt = await self._client.execute_update_with_start_workflow(
                ProductLifecycleWorkflow.register,
                command,
                id=update_id,
                start_workflow_operation=start,
            )
        except WorkflowAlreadyStartedError:
            raise _ended_before(command.product_id) from None
        except WorkflowUpdateFailedError as error:
            raise _refusal_from(error) from None
        except RPCError as error:
            if error.status is RPCStatusCode.ALREADY_EXISTS:
                raise _ended_before(command.product_id) from None
            raise
        finally:
            await _collect_start_outcome(start)
        return receipt

    async def execute(
        self, product_id: str, command: Command, *, update_id: str | None = None
    ) -> CommandReceipt:
        """Sends a command; `update_id` makes a client retry apply at most once.

        Temporal refuses more than a few in-flight updates per workflow, aborts admitted
        updates when it clears a workflow's update registry (a failed or evicted workflow
        task), and refuses updates while a failed workflow task awaits its retry; when a crowd
        acts on one product at once, or the worker is overloaded, each command waits its turn
        (jittered backoff, bounded by `busy_patience`) instead of surfacing any of these. The
        same update id is reused across attempts, so a retry is never applied twice."""
        if isinstance(command, RegisterProduct):
            return await self.register(command)
        handle = self._client.get_workflow_handle(workflow_id_for(product_id))
        update_id = update_id or str(uuid.uuid4())
        deadline = time.monotonic() + self._busy_patience
        pause = 0.05
        while True:
            try:
                receipt: CommandReceipt = await handle.execute_update(
                    _UPDATE_FOR[type(command)], command, id=update_id
                )
                return receipt
            except WorkflowUpdateFailedError as error:
                raise _refusal_from(error) from None
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                # The SDK turns our own cancellation into this error too: that one propagates.
                current = asyncio.current_task()
                cancelled = current is not None and current.cancelling() > 0
                if cancelled or time.monotonic() + pause >= deadline:
                    raise
            except RPCError as error:
                if error.status is RPCStatusCode.NOT_FOUND:
                    raise await self._why_not_found(product_id) from None
                if not worth_retrying(error) or time.monotonic() + pause >= deadline:
                    raise
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 1.0)

    async def view(self, product_id: str) -> ProductView:
        handle = self._client.get_workflow_handle(workflow_id_for(product_id))
        try:
            view: ProductView = await handle.query(ProductLifecycleWorkflow.view)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise _not_registered(product_id) from None
            raise
        return view

    async def outcome(self, product_id: str) -> LifecycleOutcome:
        """Waits for the product's journey to end and returns how it ended."""
        handle = self._client.get_workflow_handle(
            workflow_id_for(product_id), result_type=LifecycleOutcome
        )
        outcome: LifecycleOutcome = await handle.result()
        return outcome

    async def _why_not_found(self, product_id: str) -> CommandRefused:
        handle = self._client.get_workflow_handle(workflow_id_for(product_id))
        try:
            description = await handle.describe()
        except RPCError:
            return _not_registered(product_id)
        if description.status is WorkflowExecutionStatus.RUNNING:
            return _not_registered(product_id)
        view = await self.view(product_id)
        return CommandRefused(
            "product.closed",
            f"product '{product_id}' is {view.state.stage}; it accepts no further commands",
        )


_RETRYABLE = {
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.ABORTED,
}


def worth_retrying(error: RPCError) -> bool:
    """A refusal that means "not now" (a crowd on the product, an overloaded server or
    worker), never "no": the same update may be sent again later."""
    return (
        error.status in _RETRYABLE
        or "update was aborted" in error.message
        or workflow_not_ready(error)
    )


def workflow_not_ready(error: RPCError) -> bool:
    """The server refused the update because the product's last workflow task failed (on an
    overloaded worker, for example one starved past the SDK's 2-second deadlock limit) and is
    being retried: the update was not admitted, so sending it again later is safe."""
    if error.status is not RPCStatusCode.FAILED_PRECONDITION:
        return False
    try:
        details = error.grpc_status.details
    except Exception:  # an unparsable status says nothing either way
        return False
    return any(detail.type_url.endswith(".WorkflowNotReadyFailure") for detail in details)


async def _collect_start_outcome(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """The SDK also hands the start's outcome to the start operation, an error included
    (a refused start, a deadline, an overloaded server); taken from there, so asyncio does not
    log it as an exception never retrieved. It is settled by the time the call returns or
    raises: the timeout only guards against an SDK that would leave it pending."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1):
            await start.workflow_handle()


def _ended_before(product_id: str) -> CommandRefused:
    return CommandRefused(
        "product.already_registered",
        f"product '{product_id}' was registered before and has ended; product ids are never reused",
    )


def _not_registered(product_id: str) -> CommandRefused:
    return CommandRefused(
        "product.not_registered",
        f"product '{product_id}' is not registered",
        RefusalKind.NOT_FOUND,
    )


def _refusal_from(error: WorkflowUpdateFailedError) -> Exception:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == REFUSAL_ERROR_TYPE:
        details = cause.details[0] if cause.details else {}
        rule = str(details.get("rule", "refused")) if isinstance(details, dict) else "refused"
        kind = details.get("kind", "conflict") if isinstance(details, dict) else "conflict"
        return CommandRefused(rule, cause.message, RefusalKind(kind))
    return error
