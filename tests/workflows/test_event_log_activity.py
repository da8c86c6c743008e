"""The append activity on a real Postgres: a retry after a lost acknowledgement is harmless."""

import itertools
from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.event_log import EventLogActivities
from domain.decide import decide
from domain.events import Event
from domain.state import ProductState
from playbooks import load_default_playbook
from store.event_store import EventStore
from tests.support.journey import register
from workflows.contracts import AppendEventsRequest

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def registration_events(product_id: str) -> list[Event]:
    ids = (f"5f0c6a52-0000-4000-8000-{n:012d}" for n in itertools.count())
    return decide(ProductState(), register(product_id, load_default_playbook()), NOW, ids.__next__)


async def test_appending_the_same_events_twice_stores_them_once(event_store: EventStore) -> None:
    activities = EventLogActivities(event_store)
    request = AppendEventsRequest(
        stream_id="product-orbit",
        expected_version=0,
        events=registration_events("orbit"),
        correlation={"workflow_id": "product-orbit", "command": "RegisterProduct"},
    )
    env = ActivityEnvironment()

    first = await env.run(activities.append_product_events, request)
    retried = await env.run(activities.append_product_events, request)

    assert not first.already_stored
    assert retried.already_stored
    assert (retried.first_position, retried.last_position) == (
        first.first_position,
        first.last_position,
    )
    stored = await event_store.read_stream("product-orbit")
    assert len(stored) == 1
    assert stored[0].metadata["command"] == "RegisterProduct"
    assert stored[0].metadata["actor"]["subject"] == "pm-ada"


async def test_a_stale_expected_version_fails_without_retry(event_store: EventStore) -> None:
    activities = EventLogActivities(event_store)
    env = ActivityEnvironment()
    await env.run(
        activities.append_product_events,
        AppendEventsRequest(
            stream_id="product-orbit",
            expected_version=0,
            events=registration_events("orbit"),
            correlation={},
        ),
    )
    stray = registration_events("orbit")
    stray = [
        e.model_copy(update={"event_id": "5f0c6a52-0000-4000-8000-ffffffffffff"}) for e in stray
    ]

    with pytest.raises(ApplicationError) as failure:
        await env.run(
            activities.append_product_events,
            AppendEventsRequest(
                stream_id="product-orbit", expected_version=0, events=stray, correlation={}
            ),
        )

    assert failure.value.type == "StreamVersionConflict"
    assert failure.value.non_retryable
    assert await event_store.stream_version("product-orbit") == 1
