"""One durable workflow per product: hosts the domain, serialises commands, appends events.

The workflow holds no rules of its own. Each Update's validator dry-runs `domain.decide`, so a
refused command is rejected before it touches history; the handler decides again under a lock
(the state may have moved while it waited), appends the events through an activity and only
then folds them in, so an answer always means "durable".
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.alarms import next_alarm
    from domain.commands import (
        Command,
        EnforceReviewDeadline,
        RegisterProduct,
        RemindApprovers,
        RemindOverdueGtmItems,
        ReviewKpis,
        RunSunsetSchedule,
    )
    from domain.decide import decide
    from domain.events import Event, LaunchPlanned
    from domain.evolve import evolve_all
    from domain.gate_evaluation import evaluate_current_gate
    from domain.identity import SYSTEM_ACTOR
    from domain.notifications import Notification
    from domain.refusals import CommandRefused
    from domain.review_clock import next_review_alarm
    from domain.stages import Stage
    from domain.state import ProductState
    from workflows.command_updates import CommandUpdates
    from workflows.contracts import (
        APPEND_PRODUCT_EVENTS,
        NOTIFY_STAKEHOLDERS,
        AppendEventsRequest,
        AppendEventsResult,
        AppliedUpdate,
        CommandReceipt,
        LifecycleOutcome,
        LifecycleStart,
        NotifyRequest,
        ProductView,
        stream_id_for,
    )
    from workflows.notices import notices_for
    from workflows.playbook_updates import PlaybookUpdates
    from workflows.visibility import updates_between, visibility_of

REFUSAL_ERROR_TYPE = "CommandRefused"
# Runs started before GTM, KPI and end-of-life timers existed keep waking for reviews only.
PLAN_ALARMS_PATCH = "launch-growth-sunset-alarms"
# A workflow started by a registration the validator refused holds nothing; it ends after this.
REGISTRATION_GRACE = timedelta(minutes=5)
# Applied updates remembered across continue-as-new: enough for any client's retry window,
# small enough to keep the carried input far below Temporal's payload limit.
RECENT_UPDATES_KEPT = 64
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
)
# An append takes milliseconds; an attempt lost with a killed worker (or a completion lost with
# a restarting server) is retried after this, while the product's other commands wait behind
# it: kept short so they get their turn within the API's patience. A retry of an append that
# did land is recognised by its event ids and stores nothing twice.
APPEND_ATTEMPT_TIMEOUT = timedelta(seconds=10)
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["StreamVersionConflict", "EventIdReused"],
)


def refusal_error(refusal: CommandRefused) -> ApplicationError:
    """A refusal travels as a typed, non-retryable failure carrying the rule and its kind."""
    return ApplicationError(
        refusal.message,
        {"rule": refusal.rule, "kind": refusal.kind.value},
        type=REFUSAL_ERROR_TYPE,
        non_retryable=True,
    )


def _placeholder_ids() -> Callable[[], str]:
    """Validators must not consume the workflow's random stream (they do not run on replay)."""
    counter = iter(range(1_000_000))
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


@workflow.defn
class ProductLifecycleWorkflow(CommandUpdates, PlaybookUpdates):
    @workflow.init
    def __init__(self, start: LifecycleStart) -> None:
        self._product_id = start.product_id
        self._state = start.state or ProductState()
        self._lock = asyncio.Lock()
        self._outbox: list[Notification] = []
        self._recent = {applied.update_id: applied.receipt for applied in start.recent_updates}
        self._publish_search_attributes = start.publish_search_attributes
        self._history_bound = start.history_bound
        self._published: dict[str, str] = {}
        self._alarm_of: Callable[[ProductState], datetime | None] = next_review_alarm
        self._plans = False  # see _decide

    @workflow.run
    async def run(self, start: LifecycleStart) -> LifecycleOutcome:
        if workflow.patched(PLAN_ALARMS_PATCH):
            self._alarm_of, self._plans = next_alarm, True
        registered = await self._wait(lambda: self._state.is_registered, REGISTRATION_GRACE)
        if not registered:
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not self._state.is_registered:
                return self._outcome()
        self._publish_visibility()
        while not self._must_stop():
            alarm = self._alarm_of(self._state)
            if alarm is None or alarm > workflow.now():
                wait = None if alarm is None else alarm - workflow.now()
                await self._wait(partial(self._should_wake, alarm), wait)
            if alarm is not None and workflow.now() >= alarm and not await self._on_alarm():
                # The domain saw nothing to do at this alarm; never spin on it, wait for a change.
                await workflow.wait_condition(partial(self._should_wake, alarm))
            await self._send_notices()
        await self._finish_handlers_and_notices()
        if self._state.is_terminal:
            return self._outcome()
        workflow.continue_as_new(
            LifecycleStart(
                product_id=self._product_id,
                state=self._state,
                recent_updates=tuple(
                    AppliedUpdate(update_id=update_id, receipt=receipt)
                    for update_id, receipt in self._recent.items()
                ),
                publish_search_attributes=self._publish_search_attributes,
                history_bound=self._history_bound,
            )
        )

    async def _finish_handlers_and_notices(self) -> None:
        """Before the run ends: every handler finished and every notice sent. Sending awaits
        an activity, during which new updates may be admitted, so check again after it; with
        no await between the last check and the end, none can slip in."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._send_notices()
            if workflow.all_handlers_finished() and not self._outbox:
                return

    def _should_wake(self, alarm: datetime | None) -> bool:
        """Something to do before the timer: stop, tell people, or re-arm a moved alarm (a
        decided gate cancels its reminders this way)."""
        return self._must_stop() or bool(self._outbox) or self._alarm_of(self._state) != alarm

    def _must_stop(self) -> bool:
        """Terminal, or time to continue-as-new so history stays bounded."""
        info = workflow.info()
        return (
            self._state.is_terminal
            or info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._history_bound
        )

    async def _on_alarm(self) -> bool:
        """The durable timer fired: the review deadline first, then reminders, overdue GTM
        items, the KPI review and the sunset schedule; each decides as the engine itself and
        changes nothing when its moment has not come or has passed. True if anything
        happened."""
        happened = False
        for command in (
            EnforceReviewDeadline(actor=SYSTEM_ACTOR),
            RemindApprovers(actor=SYSTEM_ACTOR),
            RemindOverdueGtmItems(actor=SYSTEM_ACTOR),
            ReviewKpis(actor=SYSTEM_ACTOR),
            RunSunsetSchedule(actor=SYSTEM_ACTOR),
        ):
            if self._state.is_terminal:
                break
            async with self._lock:
                events = self._decide(command)
                if events:
                    await self._append(events, command)
                    self._fold(events)
                    happened = True
        return happened

    async def _send_notices(self) -> None:
        """Tell people what happened. A failing channel never blocks or fails the product:
        after its retries the batch is logged and dropped (the outbox keeps what arrived)."""
        if not self._outbox:
            return
        batch, self._outbox = self._outbox, []
        try:
            await workflow.execute_activity(
                NOTIFY_STAKEHOLDERS,
                NotifyRequest(notifications=batch),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(minutes=10),
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning(
                "notifications not delivered", extra={"count": len(batch), "error": str(error)}
            )

    @staticmethod
    async def _wait(condition: Callable[[], bool], within: timedelta | None) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=within)
        except TimeoutError:
            return condition()
        return True

    def _outcome(self) -> LifecycleOutcome:
        status: Literal["retired", "killed", "never_registered"] = "never_registered"
        if self._state.stage is Stage.RETIRED:
            status = "retired"
        elif self._state.stage is Stage.KILLED:
            status = "killed"
        return LifecycleOutcome(
            product_id=self._product_id,
            final_stage=self._state.stage,
            status=status,
            events=self._state.version,
        )

    @workflow.query
    def view(self) -> ProductView:
        return ProductView(
            state=self._state,
            gate=evaluate_current_gate(self._state),
            next_review_alarm=next_review_alarm(self._state),
            next_alarm=self._alarm_of(self._state),
        )

    # Commands. Each is an Update whose validator is a dry run of the same decision.

    @workflow.update
    async def register(self, command: RegisterProduct) -> CommandReceipt:
        return await self._execute(command)

    @register.validator
    def _validate_register(self, command: RegisterProduct) -> None:
        if command.product_id != self._product_id:
            raise refusal_error(
                CommandRefused(
                    "product.id_mismatch",
                    f"this workflow hosts product '{self._product_id}', not '{command.product_id}'",
                )
            )
        self._dry_run(command)

    def _dry_run(self, command: Command) -> None:
        if self._earlier_answer() is not None:
            return
        try:
            decide(self._state, command, workflow.now(), _placeholder_ids())
        except CommandRefused as refusal:
            raise refusal_error(refusal) from None

    def _decide(self, command: Command) -> list[Event]:
        """The domain's decision. A run started before launch plans existed replays updates
        whose answers had no `LaunchPlanned`; folding one in now would put the state ahead of
        the stored stream, so such runs leave it out until they continue as new."""
        events = decide(self._state, command, workflow.now(), self._new_id)
        if self._plans:
            return events
        return [e for e in events if not isinstance(e, LaunchPlanned)]

    @staticmethod
    def _new_id() -> str:
        return str(workflow.uuid4())

    def _fold(self, events: list[Event]) -> None:
        self._state = evolve_all(self._state, events)
        self._outbox.extend(notices_for(events, self._state))
        self._publish_visibility()

    def _publish_visibility(self) -> None:
        """Keeps the search attributes in step with the state, when the namespace has them."""
        if not self._publish_search_attributes:
            return
        wanted = visibility_of(self._state)
        changes = updates_between(self._published, wanted)
        if changes:
            workflow.upsert_search_attributes(changes)
            self._published = wanted

    def _earlier_answer(self) -> CommandReceipt | None:
        """The receipt of this very update if an earlier run of this workflow applied it."""
        update = workflow.current_update_info()
        return None if update is None else self._recent.get(update.id)

    def _remember(self, receipt: CommandReceipt) -> None:
        update = workflow.current_update_info()
        if update is None:
            return
        self._recent[update.id] = receipt
        while len(self._recent) > RECENT_UPDATES_KEPT:
            del self._recent[next(iter(self._recent))]

    async def _execute(self, command: Command) -> CommandReceipt:
        async with self._lock:
            earlier = self._earlier_answer()
            if earlier is not None:
                return earlier
            try:
                events = self._decide(command)
            except CommandRefused as refusal:
                raise refusal_error(refusal) from None
            await self._append(events, command)
            self._fold(events)
            receipt = CommandReceipt(
                product_id=self._product_id,
                events=events,
                stage=self._state.stage,
                version=self._state.version,
                gate=evaluate_current_gate(self._state),
            )
            self._remember(receipt)
            return receipt

    async def _append(self, events: list[Event], command: Command) -> None:
        """A scheduled activity, never a local one, though a local one would save a workflow
        task and an activity task per command: a local activity writes while the workflow
        task that decided is still open, and when that task is lost (the server aborts it
        while a crowd of updates waits), the retry may admit another update first and decide
        differently, leaving in the append-only log events that the workflow's history never
        decided. A scheduled activity runs only once its decision is in the history. (Tried:
        tests/workflows/test_crowd_on_one_product.py failed at once with stream version
        conflicts and reused event ids.)"""
        update = workflow.current_update_info()
        correlation = {
            "workflow_id": workflow.info().workflow_id,
            "command": command.type,
            "update_id": update.id if update else "",
        }
        await workflow.execute_activity(
            APPEND_PRODUCT_EVENTS,
            AppendEventsRequest(
                stream_id=stream_id_for(self._product_id),
                expected_version=self._state.version,
                events=events,
                correlation=correlation,
            ),
            result_type=AppendEventsResult,
            start_to_close_timeout=APPEND_ATTEMPT_TIMEOUT,
            retry_policy=APPEND_RETRY,
        )
