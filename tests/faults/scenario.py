"""Decisions in flight on several products, and the checks that must hold after any fault.

Each fault test prepares a few products to the point where a gate review is open, sends a
burst of sign-offs and metric recordings (each an append to the event store) at all of them at
once, breaks something while they are in flight, repairs it, and then asks the same questions:

* every call that answered "accepted" has its events in the store, exactly once;
* no decision is in the store twice, and nothing is stored that no call asked for;
* the global position runs 1, 2, 3... without a gap and the hash chain verifies;
* each product's workflow state equals the fold of its stored events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from domain.commands import (
    Command,
    DecideGate,
    GateOutcome,
    GiveSignOff,
    RecordMetric,
    RequestGateReview,
    SubmitEvidence,
    Verdict,
)
from domain.events import EVENT_ADAPTER
from domain.evolve import evolve_all
from domain.playbook import Playbook
from domain.refusals import CommandRefused
from domain.stages import LIFECYCLE_PATH, Stage
from domain.state import ProductState
from store.audit import verify_chain
from store.event_store import EventStore
from store.events import RecordedEvent
from tests.support.journey import OWNER, gatekeeper, register
from workflows.contracts import CommandReceipt, stream_id_for
from workflows.product_client import ProductLifecycleClient

SIGNERS = 6
METRIC = "weekly-active-users"
LEAD = gatekeeper("product-lead", 99)
log = logging.getLogger("tests.faults")


def fault_playbook() -> Playbook:
    """Discovery needs one brief and SIGNERS approvals, then a lead decides; later gates are
    decided directly, so a product can be walked on after the fault."""
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {"title": f"{stage.value} gate", "decider_roles": ["product-lead"]}
        stages.append(entry)
    stages[0]["exit_gate"].update(
        evidence=[{"key": "brief", "title": "briefs"}],
        sign_offs=[{"role": "product-lead", "min_approvals": SIGNERS}],
    )
    return Playbook.model_validate(
        {
            "name": "faults",
            "version": 1,
            "title": "Faults",
            "roles": [{"key": r, "title": r} for r in ("product-manager", "product-lead")],
            "metrics": [{"key": METRIC, "title": "weekly active users"}],
            "stages": stages,
        }
    )


def new_product_ids(count: int) -> list[str]:
    return [f"fault-{uuid.uuid4().hex[:10]}" for _ in range(count)]


async def open_reviews(products: ProductLifecycleClient, product_ids: Iterable[str]) -> None:
    """Registered, brief submitted, review requested: ready to be signed."""

    async def prepare(product_id: str) -> None:
        await products.register(register(product_id, fault_playbook()))
        await products.execute(
            product_id,
            SubmitEvidence(actor=OWNER, requirement="brief", title="Brief", uri="https://x/brief"),
        )
        await products.execute(product_id, RequestGateReview(actor=OWNER, note="please sign"))

    await asyncio.gather(*(prepare(p) for p in product_ids))


def sign_offs(signers: Iterable[int]) -> list[Command]:
    return [
        GiveSignOff(
            actor=gatekeeper("product-lead", n),
            role="product-lead",
            verdict=Verdict.APPROVE,
            reason="looks good",
        )
        for n in signers
    ]


def metric_readings(values: Iterable[int]) -> list[Command]:
    return [
        RecordMetric(actor=OWNER, metric=METRIC, value=float(v), source="analytics") for v in values
    ]


def interleave(first: Sequence[Command], second: Sequence[Command]) -> list[Command]:
    mixed: list[Command] = []
    for index in range(max(len(first), len(second))):
        mixed.extend(first[index : index + 1])
        mixed.extend(second[index : index + 1])
    return mixed


def go() -> DecideGate:
    return DecideGate(actor=LEAD, outcome=GateOutcome.GO, reason="recovered and complete")


@dataclass
class Call:
    """One command sent by a client, and how it ended (if it has)."""

    product_id: str
    command: Command
    update_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    receipt: CommandReceipt | None = None
    error: BaseException | None = None
    answered_at: float | None = None

    def describe(self) -> str:
        outcome = "accepted" if self.receipt else f"{type(self.error).__name__}: {self.error}"
        return f"{self.product_id} {self.command.type} ({self.update_id}): {outcome}"


class Calls:
    """Commands in flight, each in its own task, as many people would send them."""

    def __init__(self, products: ProductLifecycleClient) -> None:
        self._products = products
        self.all: list[Call] = []
        self._tasks: list[asyncio.Task[None]] = []

    def send(self, product_id: str, commands: Iterable[Command]) -> None:
        for command in commands:
            call = Call(product_id, command)
            self.all.append(call)
            self._tasks.append(asyncio.create_task(self._run(call)))

    async def _run(self, call: Call) -> None:
        try:
            call.receipt = await self._products.execute(
                call.product_id, call.command, update_id=call.update_id
            )
        except Exception as error:  # every outcome is recorded and judged by the test
            call.error = error
        call.answered_at = time.monotonic()

    async def settle(self, within: float) -> None:
        """Until every call has answered; a call still waiting after `within` is a failure."""
        _, pending = await asyncio.wait(self._tasks, timeout=within)
        for task in pending:
            task.cancel()
        assert not pending, f"{len(pending)} calls never answered: " + "; ".join(
            c.describe() for c in self.all if c.answered_at is None
        )

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    @property
    def accepted(self) -> list[Call]:
        return [c for c in self.all if c.receipt is not None]

    @property
    def failed(self) -> list[Call]:
        return [c for c in self.all if c.error is not None]

    def report(self, fault: str, in_flight: int, repaired_at: float) -> None:
        """Logs how long the last answer took after the repair: the figure the README quotes."""
        last = max((c.answered_at for c in self.all if c.answered_at is not None), default=0.0)
        log.info(
            "%s: %d of %d calls were in flight; the last answered %.1f s after the repair",
            fault,
            in_flight,
            len(self.all),
            last - repaired_at,
        )


async def until(condition: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within:.0f}s: {what}")
        await asyncio.sleep(0.05)


async def count_of(pool: asyncpg.Pool, event_type: str) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM public.events WHERE type = $1", event_type)
    )


async def decisions_stored(pool: asyncpg.Pool) -> int:
    return await count_of(pool, "SignOffGiven") + await count_of(pool, "MetricRecorded")


async def all_events(event_store: EventStore) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    while batch := await event_store.read_all(events[-1].position if events else 0, 1000):
        events.extend(batch)
    return events


def fold(recorded: Sequence[RecordedEvent]) -> ProductState:
    return evolve_all(ProductState(), [EVENT_ADAPTER.validate_python(r.data) for r in recorded])


def decision_key(product_id: str, command: Command) -> tuple[str, str, str]:
    """What makes one decision distinct in these scenarios: who signed, or which reading."""
    if isinstance(command, GiveSignOff):
        return product_id, "SignOffGiven", command.actor.subject
    if isinstance(command, RecordMetric):
        return product_id, "MetricRecorded", str(command.value)
    return product_id, command.type, ""


def stored_decision_key(event: RecordedEvent) -> tuple[str, str, str] | None:
    product_id = str(event.data["product_id"])
    if event.type == "SignOffGiven":
        return product_id, event.type, str(event.data["actor"]["subject"])
    if event.type == "MetricRecorded":
        return product_id, event.type, str(float(event.data["value"]))
    return None


async def assert_consistent(
    calls: Calls,
    products: ProductLifecycleClient,
    product_ids: Sequence[str],
    event_store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    stored = await all_events(event_store)

    # Every accepted call's events are stored, each exactly once.
    positions_of = Counter(str(e.event_id) for e in stored)
    for call in calls.accepted:
        assert call.receipt is not None
        for event in call.receipt.events:
            assert positions_of[event.event_id] == 1, (
                f"{call.describe()}: event {event.event_id} stored "
                f"{positions_of[event.event_id]} times"
            )

    # No decision is stored twice, and none that no call asked for.
    stored_keys = Counter(k for e in stored if (k := stored_decision_key(e)) is not None)
    twice = {k: n for k, n in stored_keys.items() if n > 1}
    assert twice == {}, f"decisions stored more than once: {twice}"
    asked = {decision_key(c.product_id, c.command) for c in calls.all}
    assert set(stored_keys) <= asked, f"stored but never asked: {set(stored_keys) - asked}"
    # A refused or failed call left nothing behind.
    for call in calls.failed:
        assert decision_key(call.product_id, call.command) not in stored_keys, (
            f"{call.describe()} but its decision is stored"
        )

    # The global log: positions 1..n without a gap, the hash chain intact.
    assert [e.position for e in stored] == list(range(1, len(stored) + 1))
    verification = await verify_chain(pool)
    assert verification.ok, verification
    assert verification.events_checked == len(stored)

    # Each product is in the state its events say.
    for product_id in product_ids:
        stream = [e for e in stored if e.stream_id == stream_id_for(product_id)]
        assert [e.stream_version for e in stream] == list(range(1, len(stream) + 1))
        view = await products.view(product_id)
        assert view.state == fold(stream), f"{product_id}: workflow state differs from its events"


def unexpected_failures(calls: Calls) -> list[str]:
    """Failures other than a refusal the domain explains."""
    return [c.describe() for c in calls.failed if not isinstance(c.error, CommandRefused)]
