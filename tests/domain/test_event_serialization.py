"""Events are stored as JSON and read back years later: they must come back exactly."""

import json
from typing import get_args

import pytest

from domain.decide import decide
from domain.events import EVENT_ADAPTER, Event, ProductRegistered
from domain.evolve import evolve_all
from domain.state import ProductState
from tests.domain.dsl import (
    EARLIER,
    EDSGER,
    GRACE,
    LINUS,
    NOW,
    Ids,
    approve,
    evidence,
    go,
    kill,
    measure,
    playbook,
    register,
    reject,
    reopen,
    request_review,
    tick,
)

PLAYBOOK = playbook(
    discovery={
        "evidence": [{"key": "interview", "title": "customer interviews"}],
        "checklist": [{"key": "budget", "title": "Budget", "owner_role": "finance"}],
        "metrics": [{"metric": "activation", "comparison": ">", "threshold": 12.5}],
        "sign_offs": [{"role": "legal"}],
    },
    planning={"auto_advance": True},
)


def every_kind_of_event() -> list[Event]:
    ids = Ids()
    state = ProductState()
    trail: list[Event] = []
    for command in (
        register(PLAYBOOK),
        evidence("interview", title="Interview with Zoë, ünïcode €"),
        tick("budget", by=EDSGER),
        reopen("budget", "numbers changed", by=EDSGER),
        tick("budget", by=EDSGER),
        measure("activation", 13.25, observed_at=EARLIER),
        request_review(),
        reject(LINUS, "legal", "no DPA"),
        request_review(),
        approve(LINUS, "legal"),
        go(by=GRACE),  # discovery by hand, planning by itself
        kill(by=GRACE),
    ):
        events = decide(state, command, NOW, ids)
        trail.extend(events)
        state = evolve_all(state, events)
    return trail


EVENTS = every_kind_of_event()


def test_the_sample_covers_every_event_type() -> None:
    declared = {cls.model_fields["type"].default for cls in get_args(get_args(Event)[0])}

    assert {event.type for event in EVENTS} == declared


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.type}-{e.event_id}")
def test_an_event_round_trips_through_json(event: Event) -> None:
    text = EVENT_ADAPTER.dump_json(event)

    assert EVENT_ADAPTER.validate_json(text) == event
    assert EVENT_ADAPTER.validate_python(json.loads(text)) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.type}-{e.event_id}")
def test_an_event_carries_its_type_and_schema_version(event: Event) -> None:
    document = EVENT_ADAPTER.dump_python(event, mode="json")

    assert document["type"] == type(event).__name__
    assert document["schema_version"] == 1
    assert document["occurred_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert {"event_id", "product_id", "actor"} <= set(document)


def test_the_registration_event_carries_the_full_playbook_back_intact() -> None:
    registered = EVENTS[0]
    back = EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(registered))

    assert isinstance(back, ProductRegistered)
    assert back.playbook == PLAYBOOK
    assert back.playbook.fingerprint() == back.playbook_fingerprint == PLAYBOOK.fingerprint()


def test_an_unknown_event_type_is_rejected_when_read_back() -> None:
    document = EVENT_ADAPTER.dump_python(EVENTS[1], mode="json")
    document["type"] = "EvidenceShredded"

    with pytest.raises(ValueError, match="EvidenceShredded"):
        EVENT_ADAPTER.validate_python(document)
