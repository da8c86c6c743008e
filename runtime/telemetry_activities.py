"""The worker's activity interceptor: context on every line an activity logs, and one
canonical line per activity attempt.

The context says which product and workflow the work is for and, for an event append, who
acted and which command it was, so a line from deep in the store can be traced back to a
person's request. Failures of notification activities are counted for alerting.
"""

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from runtime.metrics import observe_activity, record_notification_failure

log = structlog.get_logger("lifecycle.activity")
_PRODUCT_WORKFLOW_PREFIX = "product-"


class ActivityContextInterceptor(Interceptor):
    def __init__(self, notification_activities: Iterable[str] = ()) -> None:
        self._notification_activities = frozenset(notification_activities)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityContext(next, self._notification_activities)


class _ActivityContext(ActivityInboundInterceptor):
    def __init__(
        self, next: ActivityInboundInterceptor, notification_activities: frozenset[str]
    ) -> None:
        super().__init__(next)
        self._notification_activities = notification_activities

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        context = activity_context(info, input.args)
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(**context):
            try:
                result = await self.next.execute_activity(input)
            except (Exception, asyncio.CancelledError) as error:
                seconds = time.perf_counter() - started
                outcome = "cancelled" if isinstance(error, asyncio.CancelledError) else "failed"
                observe_activity(info.activity_type, outcome, seconds)
                if outcome == "failed" and info.activity_type in self._notification_activities:
                    record_notification_failure(info.activity_type, _endpoint_of(input.args))
                log.warning(
                    "activity.finished",
                    outcome=outcome,
                    duration_ms=round(seconds * 1000, 2),
                    error_type=type(error).__name__,
                    error=str(error),
                )
                raise
            seconds = time.perf_counter() - started
            observe_activity(info.activity_type, "completed", seconds)
            log.info("activity.finished", outcome="completed", duration_ms=round(seconds * 1000, 2))
            return result


def activity_context(info: activity.Info, args: Iterable[Any]) -> dict[str, Any]:
    context: dict[str, Any] = {
        "activity": info.activity_type,
        "activity_id": info.activity_id,
        "attempt": info.attempt,
        "workflow_id": info.workflow_id,
    }
    workflow_id = info.workflow_id or ""
    if workflow_id.startswith(_PRODUCT_WORKFLOW_PREFIX):
        context["product_id"] = workflow_id.removeprefix(_PRODUCT_WORKFLOW_PREFIX)
    for arg in args:
        events = getattr(arg, "events", None)
        if events:
            actor = getattr(events[0], "actor", None)
            if actor is not None:
                context["actor"] = getattr(actor, "subject", None)
            context.setdefault("product_id", getattr(events[0], "product_id", None))
        correlation = getattr(arg, "correlation", None)
        if isinstance(correlation, dict):
            if correlation.get("command"):
                context["command"] = correlation["command"]
            if correlation.get("update_id"):
                context["update_id"] = correlation["update_id"]
        notification = getattr(arg, "notification", None)
        if notification is not None:
            context.setdefault("product_id", getattr(notification, "product_id", None))
    return {key: value for key, value in context.items() if value is not None}


def _endpoint_of(args: Iterable[Any]) -> str:
    for arg in args:
        endpoint = getattr(arg, "endpoint", None)
        if isinstance(endpoint, str):
            return endpoint
    return ""
