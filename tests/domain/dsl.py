"""A small given / when / then language for the domain tests.

`given(...)` folds events and commands into a product state, `when(state, command)` asks `decide`
for the events, `refusal(state, command)` expects a refusal. Time is fixed and ids come from a
counter, so every run produces the same events.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    EnforceReviewDeadline,
    GateOutcome,
    GiveSignOff,
    MeetCondition,
    RecordMetric,
    RegisterProduct,
    RemindApprovers,
    ReopenChecklistItem,
    RequestGateReview,
    RevokeSignOff,
    SubmitEvidence,
    Verdict,
)
from domain.decide import decide
from domain.delegation import Delegation
from domain.events import Event
from domain.evolve import evolve, evolve_all
from domain.identity import SYSTEM_ACTOR, Actor
from domain.playbook import Playbook
from domain.refusals import CommandRefused
from domain.stages import LIFECYCLE_PATH, Stage
from domain.state import ProductState

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EARLIER = NOW - timedelta(days=3)

# Every command the domain knows, so `given` tells commands from events.
COMMAND_TYPES: tuple[type, ...] = get_args(get_args(Command)[0])

# The cast. Ada owns the product; everyone else holds the roles the hand-written playbooks use.
ADA = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm",))
GRACE = Actor(subject="grace", display_name="Grace Hopper", roles=("gatekeeper",))
LINUS = Actor(subject="linus", display_name="Linus Legal", roles=("legal",))
MARGARET = Actor(subject="margaret", display_name="Margaret Hamilton", roles=("legal",))
EDSGER = Actor(subject="edsger", display_name="Edsger Dijkstra", roles=("finance",))
BARBARA = Actor(subject="barbara", display_name="Barbara Liskov", roles=("legal", "finance"))
MALLORY = Actor(subject="mallory", display_name="Mallory Nobody", roles=())
ADA_THE_GATEKEEPER = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "gatekeeper"))

PRODUCT_ID = "widget"
ROLES = ("pm", "gatekeeper", "legal", "finance")
METRICS = (
    {"key": "activation", "title": "activation rate", "unit": "%"},
    {"key": "churn", "title": "monthly churn", "unit": "%"},
    {"key": "nps", "title": "net promoter score"},
)


class Ids:
    """Deterministic ids: id-1, id-2, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self.prefix = prefix
        self.issued = 0

    def __call__(self) -> str:
        self.issued += 1
        return f"{self.prefix}-{self.issued}"


def playbook_document(
    *, version: int = 1, name: str = "test", **gates: dict[str, Any]
) -> dict[str, Any]:
    """A valid playbook document: every working stage gets a bare gate the gatekeeper decides,
    except the stages named in `gates`, whose gate fields are merged in."""
    unknown = set(gates) - {stage.value for stage in LIFECYCLE_PATH}
    assert not unknown, f"not stages: {unknown}"
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {
                "title": f"{stage.value} gate",
                "decider_roles": ["gatekeeper"],
                **gates.get(stage.value, {}),
            }
        stages.append(entry)
    return {
        "name": name,
        "version": version,
        "title": "Test playbook",
        "roles": [{"key": role, "title": role.title()} for role in ROLES],
        "metrics": list(METRICS),
        "stages": stages,
    }


def playbook(*, version: int = 1, **gates: dict[str, Any]) -> Playbook:
    return Playbook.model_validate(playbook_document(version=version, **gates))


# -- commands ----------------------------------------------------------------------------------


def register(pb: Playbook, owner: Actor = ADA, product_id: str = PRODUCT_ID) -> RegisterProduct:
    return RegisterProduct(
        actor=owner,
        product_id=product_id,
        name="Widget",
        description="A widget for testing",
        owner=owner.subject,
        owner_name=owner.display_name,
        playbook=pb,
    )


def evidence(requirement: str, title: str = "a document", by: Actor = ADA) -> SubmitEvidence:
    return SubmitEvidence(
        actor=by, requirement=requirement, title=title, uri="https://docs.example.com/1"
    )


def tick(item: str, by: Actor = ADA, note: str = "") -> CompleteChecklistItem:
    return CompleteChecklistItem(actor=by, item=item, note=note)


def reopen(item: str, reason: str = "found a gap", by: Actor = ADA) -> ReopenChecklistItem:
    return ReopenChecklistItem(actor=by, item=item, reason=reason)


def measure(
    key: str, value: float, by: Actor = ADA, observed_at: datetime | None = None
) -> RecordMetric:
    return RecordMetric(
        actor=by, metric=key, value=value, source="analytics", observed_at=observed_at
    )


def request_review(by: Actor = ADA, note: str = "") -> RequestGateReview:
    return RequestGateReview(actor=by, note=note)


def approve(by: Actor, role: str, reason: str = "") -> GiveSignOff:
    return GiveSignOff(actor=by, role=role, verdict=Verdict.APPROVE, reason=reason)


def reject(by: Actor, role: str, reason: str = "not convinced") -> GiveSignOff:
    return GiveSignOff(actor=by, role=role, verdict=Verdict.REJECT, reason=reason)


def go(by: Actor = GRACE, reason: str = "criteria met") -> DecideGate:
    return DecideGate(actor=by, outcome=GateOutcome.GO, reason=reason)


def kill(by: Actor = GRACE, reason: str = "no market") -> DecideGate:
    return DecideGate(actor=by, outcome=GateOutcome.KILL, reason=reason)


def review(by: Actor, role: str, reason: str = "read it") -> GiveSignOff:
    """A `review` signature: "I have read it", neither approving nor rejecting."""
    return GiveSignOff(actor=by, role=role, verdict=Verdict.REVIEW, reason=reason)


def delegation(
    principal: Actor,
    delegate: Actor,
    role: str,
    *,
    starts_at: datetime = EARLIER,
    ends_at: datetime = NOW + timedelta(days=30),
    delegation_id: str = "dlg-1",
) -> Delegation:
    return Delegation(
        delegation_id=delegation_id,
        principal=principal.subject,
        principal_name=principal.display_name,
        delegate=delegate.subject,
        role=role,
        starts_at=starts_at,
        ends_at=ends_at,
        reason="out of office",
    )


def approve_for(by: Actor, granted: Delegation, role: str | None = None) -> GiveSignOff:
    """`by` approves on behalf of the delegation's principal, in its role unless told."""
    return GiveSignOff(
        actor=by, role=role or granted.role, verdict=Verdict.APPROVE, delegation=granted
    )


def revoke(by: Actor, reason: str = "signed too early") -> RevokeSignOff:
    return RevokeSignOff(actor=by, reason=reason)


def conditional_go(
    *conditions: str, by: Actor = GRACE, reason: str = "go, with conditions"
) -> DecideGate:
    return DecideGate(
        actor=by, outcome=GateOutcome.CONDITIONAL_GO, reason=reason, conditions=conditions
    )


def hold(by: Actor = GRACE, reason: str = "budget freeze") -> DecideGate:
    return DecideGate(actor=by, outcome=GateOutcome.HOLD, reason=reason)


def resume(by: Actor = GRACE, reason: str = "budget back") -> DecideGate:
    return DecideGate(actor=by, outcome=GateOutcome.RESUME, reason=reason)


def recycle(to: Stage | None, by: Actor = GRACE, reason: str = "redo the research") -> DecideGate:
    return DecideGate(actor=by, outcome=GateOutcome.RECYCLE, reason=reason, recycle_to=to)


def meet(condition_id: str, by: Actor = ADA, note: str = "done") -> MeetCondition:
    return MeetCondition(actor=by, condition_id=condition_id, note=note)


def remind() -> RemindApprovers:
    return RemindApprovers(actor=SYSTEM_ACTOR)


def enforce_deadline() -> EnforceReviewDeadline:
    return EnforceReviewDeadline(actor=SYSTEM_ACTOR)


# -- given / when / then -----------------------------------------------------------------------


def given(*history: Event | Command, now: datetime = NOW) -> ProductState:
    """Folds events (as they are) and commands (decided, then folded) into a state."""
    state = ProductState()
    ids = Ids("given")
    for item in history:
        if isinstance(item, COMMAND_TYPES):
            state = evolve_all(state, decide(state, item, now, ids))
        else:
            state = evolve(state, item)
    return state


def given_all(
    commands: Iterable[Command], state: ProductState | None = None, now: datetime = NOW
) -> ProductState:
    ids = Ids("given")
    state = state or ProductState()
    for command in commands:
        state = evolve_all(state, decide(state, command, now, ids))
    return state


def when(state: ProductState, command: Command, now: datetime = NOW) -> list[Event]:
    return decide(state, command, now, Ids())


def then(state: ProductState, command: Command, now: datetime = NOW) -> ProductState:
    """The state after the command's events."""
    return evolve_all(state, when(state, command, now))


def types(events: list[Event]) -> list[str]:
    return [event.type for event in events]


def refusal(state: ProductState, command: Command, now: datetime = NOW) -> CommandRefused:
    with pytest.raises(CommandRefused) as caught:
        decide(state, command, now, Ids())
    return caught.value


def without_state_hashes(events: list[Event]) -> list[Event]:
    """Events with their gate-state hash blanked, after checking each is a SHA-256 hex digest,
    so a test can compare the rest field by field."""
    blanked: list[Event] = []
    for event in events:
        digest = getattr(event, "gate_state_hash", None)
        if digest is not None:
            assert len(digest) == 64, digest
            assert set(digest) <= set("0123456789abcdef"), digest
            event = event.model_copy(update={"gate_state_hash": ""})
        blanked.append(event)
    return blanked
