"""The activity that makes a product's decisions durable in the event store.

Idempotent by construction: event ids come from the workflow (`workflow.uuid4()`), so a retry
after a lost acknowledgement finds its events already stored and appends nothing.
"""

import uuid

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import Event
from store.errors import EventIdReused, StreamVersionConflict
from store.event_store import EventStore
from store.events import NewEvent
from workflows.contracts import APPEND_PRODUCT_EVENTS, AppendEventsRequest, AppendEventsResult

log = structlog.get_logger("lifecycle.activities")


def to_new_event(event: Event, correlation: dict[str, str]) -> NewEvent:
    body = event.model_dump(mode="json")
    return NewEvent(
        event_id=uuid.UUID(event.event_id),
        type=event.type,
        schema_version=event.schema_version,
        data=body,
        metadata={**correlation, "actor": body["actor"]},
        recorded_at=event.occurred_at,
    )


class EventLogActivities:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name=APPEND_PRODUCT_EVENTS)
    async def append_product_events(self, request: AppendEventsRequest) -> AppendEventsResult:
        events = [to_new_event(event, request.correlation) for event in request.events]
        try:
            result = await self._store.append(request.stream_id, request.expected_version, events)
        except StreamVersionConflict as error:
            # One writer per product: a conflict means a bug or a stray writer. Fail loudly.
            raise ApplicationError(
                str(error), type="StreamVersionConflict", non_retryable=True
            ) from error
        except EventIdReused as error:
            raise ApplicationError(str(error), type="EventIdReused", non_retryable=True) from error
        log.info(
            "events.appended",
            stream_id=request.stream_id,
            count=len(events),
            last_position=result.last_position,
            already_stored=result.already_stored,
            workflow_id=activity.info().workflow_id,
            attempt=activity.info().attempt,
        )
        return AppendEventsResult(
            first_position=result.first_position,
            last_position=result.last_position,
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )
