"""Events are stored as JSON and read back years later: they must come back exactly."""

import json
from datetime import datetime, timedelta
from typing import get_args

import pytest

from domain.commands import (
    AdoptPlaybook,
    Command,
    DecideGate,
    EnforceReviewDeadline,
    GateOutcome,
    MeetCondition,
    RemindApprovers,
    RevokeSignOff,
)
from domain.decide import decide
from domain.events import EVENT_ADAPTER, Event, ProductRegistered
from domain.evolve import evolve_all
from domain.identity import SYSTEM_ACTOR
from domain.state import ProductState
from tests.domain.dsl import (
    ADA,
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
from tests.domain.plans import (
    LAUNCH_WORK,
    TRENDS,
    experiment,
    plan_launch,
    propose_sunset,
    remind_gtm,
    review_kpis,
    run_sunset,
)

PLAYBOOK = playbook(
    discovery={
        "evidence": [{"key": "interview", "title": "customer interviews"}],
        "checklist": [{"key": "budget", "title": "Budget", "owner_role": "finance"}],
        "metrics": [{"metric": "activation", "comparison": ">", "threshold": 12.5}],
        "sign_offs": [{"role": "legal"}],
        "review": {
            "sla": "P10D",
            "remind_every": "P3D",
            "escalate_to": "gatekeeper",
            "on_timeout": "hold",
        },
    },
    planning={"auto_advance": True},
)


def every_kind_of_event() -> list[Event]:
    ids = Ids()
    state = ProductState()
    trail: list[Event] = []

    def apply(command: Command, at: datetime = NOW) -> None:
        nonlocal state
        events = decide(state, command, at, ids)
        trail.extend(events)
        state = evolve_all(state, events)

    for command in (
        register(PLAYBOOK),
        evidence("interview", title="Interview with Zoë, ünïcode €"),
        tick("budget", by=EDSGER),
        reopen("budget", "numbers changed", by=EDSGER),
        tick("budget", by=EDSGER),
        measure("activation", 13.25, observed_at=EARLIER),
        request_review(),
        evidence("interview", title="A late interview"),  # voids round 1
        request_review(),
        reject(LINUS, "legal", "no DPA"),
        request_review(),
    ):
        apply(command)
    apply(RemindApprovers(actor=SYSTEM_ACTOR), NOW + timedelta(days=3))
    apply(EnforceReviewDeadline(actor=SYSTEM_ACTOR), NOW + timedelta(days=10))
    later = NOW + timedelta(days=11)
    apply(DecideGate(actor=GRACE, outcome=GateOutcome.RESUME, reason="back"), later)
    apply(approve(LINUS, "legal"), later)
    apply(RevokeSignOff(actor=LINUS, reason="misread the DPA"), later)
    apply(approve(LINUS, "legal"), later)
    apply(
        DecideGate(
            actor=GRACE,
            outcome=GateOutcome.CONDITIONAL_GO,
            reason="go, once the DPA is signed",
            conditions=("Sign the DPA",),
        ),
        later,
    )
    [condition] = state.conditions
    apply(MeetCondition(actor=ADA, condition_id=condition.condition_id, note="signed"), later)
    apply(kill(by=GRACE), later)  # planning passed by itself once the condition was met
    return trail


def every_kind_of_plan_event() -> list[Event]:
    """Launch, growth and sunset: one product through the plans playbook."""
    ids = Ids("plan")
    state = ProductState()
    trail: list[Event] = []
    month = timedelta(days=30)

    def apply(command: Command, at: datetime = NOW) -> None:
        nonlocal state
        events = decide(state, command, at, ids)
        trail.extend(events)
        state = evolve_all(state, events)

    for command in (register(TRENDS), go(), go(), go(), plan_launch(NOW + timedelta(days=40))):
        apply(command)
    apply(remind_gtm(), NOW + timedelta(days=26))
    for command in (*LAUNCH_WORK, go(), experiment()):
        apply(command, NOW + timedelta(days=27))
    for period, (activation, nps) in enumerate(((40, 20), (40.2, 20), (40.3, 35)), start=1):
        apply(measure("activation", activation), NOW + month * period)
        apply(measure("nps", nps), NOW + month * period)
        apply(review_kpis(), NOW + month * (period + 1))
    later = NOW + month * 5
    apply(go(), later)
    apply(propose_sunset(later + timedelta(days=90)), later)
    apply(go(), later)
    apply(run_sunset(), later + timedelta(days=30))
    apply(run_sunset(), later + timedelta(days=90))
    return trail


def every_kind_of_playbook_event() -> list[Event]:
    """A newer version scheduled, adopted at the next stage, and another one migrated now."""
    first, second, third = (playbook(version=v) for v in (1, 2, 3))
    trail: list[Event] = []
    state, ids = ProductState(), Ids("pb")
    for command in (
        register(first),
        AdoptPlaybook(actor=GRACE, playbook=second, reason="v2 from planning"),
        go(),
        AdoptPlaybook(actor=GRACE, playbook=third, effective="now", reason="v3 at once"),
    ):
        events = decide(state, command, NOW, ids)
        trail.extend(events)
        state = evolve_all(state, events)
    return trail


EVENTS = every_kind_of_event() + every_kind_of_plan_event() + every_kind_of_playbook_event()


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
    assert document["occurred_at"] == event.occurred_at.isoformat().replace("+00:00", "Z")
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
