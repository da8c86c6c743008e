"""decide is a pure function: the workflow, its update validators and replays rely on it."""

import contextlib
import copy

import pytest

from domain.commands import Command
from domain.decide import decide
from domain.refusals import CommandRefused
from domain.state import ProductState
from tests.domain.dsl import (
    EDSGER,
    GRACE,
    LINUS,
    MALLORY,
    MARGARET,
    NOW,
    Ids,
    approve,
    evidence,
    given,
    given_all,
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
        "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}],
        "checklist": [{"key": "budget", "title": "Budget", "owner_role": "finance"}],
        "metrics": [{"metric": "activation", "comparison": ">=", "threshold": 40}],
        "sign_offs": [{"role": "legal", "min_approvals": 2}],
    },
    planning={"auto_advance": True},
)


def in_review() -> ProductState:
    """Everything gathered, a review open with one of two legal approvals."""
    return given(
        register(PLAYBOOK),
        evidence("interview"),
        evidence("interview"),
        tick("budget", by=EDSGER),
        measure("activation", 41),
        request_review(),
        approve(LINUS, "legal"),
    )


ACCEPTED: list[Command] = [
    evidence("interview"),
    reopen("budget"),
    measure("activation", 12),
    approve(MARGARET, "legal"),  # completes the gate; nothing auto-advances discovery
    reject(MARGARET, "legal", "no"),
    kill(),
]
REFUSED: list[Command] = [
    register(PLAYBOOK),
    evidence("horoscope"),
    tick("budget"),
    tick("nothing"),
    measure("vanity", 1),
    request_review(),
    approve(LINUS, "legal"),
    approve(MALLORY, "legal"),
    go(),  # one approval short
    go(by=MALLORY),
]


@pytest.mark.parametrize("command", ACCEPTED, ids=lambda c: c.type)
def test_the_same_state_and_command_always_decide_the_same_events(command: Command) -> None:
    state = in_review()

    first = decide(state, command, NOW, Ids())
    second = decide(state, command, NOW, Ids())

    assert first
    assert first == second


@pytest.mark.parametrize("command", ACCEPTED + REFUSED, ids=lambda c: c.type)
def test_deciding_never_changes_the_given_state(command: Command) -> None:
    state = in_review()
    before = copy.deepcopy(state)
    dumped = state.model_dump()

    with contextlib.suppress(CommandRefused):
        decide(state, command, NOW, Ids())

    assert state == before
    assert state.model_dump() == dumped


@pytest.mark.parametrize("command", REFUSED, ids=lambda c: c.type)
def test_a_refused_command_yields_no_events_and_draws_no_ids(command: Command) -> None:
    state = in_review()
    ids = Ids()

    with pytest.raises(CommandRefused):
        decide(state, command, NOW, ids)

    assert ids.issued == 0


def test_a_go_that_auto_advances_the_next_gate_is_decided_the_same_way_twice() -> None:
    state = given_all([approve(MARGARET, "legal")], in_review())

    first = decide(state, go(by=GRACE), NOW, Ids())
    second = decide(state, go(by=GRACE), NOW, Ids())

    assert [e.type for e in first] == ["GateDecided", "StageEntered"] * 2
    assert first == second


def test_time_and_ids_come_only_from_the_caller() -> None:
    state = in_review()
    later = NOW.replace(year=2030)

    voided, event = decide(state, evidence("interview"), later, Ids("custom"))

    assert voided.type == "GateReviewVoided"
    assert event.occurred_at == later
    assert (voided.event_id, event.event_id) == ("custom-1", "custom-2")
