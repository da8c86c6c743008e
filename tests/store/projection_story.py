"""Products driven the way the workflow drives them, for the read model's tests.

``domain.decide`` turns a command into events, the append activity's encoding turns those into
``NewEvent``s, the store appends them; ``Portfolio`` keeps each product's state as the workflow
would hold it, the reference the projection must match.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from activities.event_log import to_new_event
from domain.commands import Command, DecideGate, GateOutcome, GiveSignOff, Verdict
from domain.decide import decide
from domain.events import EVENT_ADAPTER
from domain.evolve import evolve_all
from domain.identity import Actor
from domain.playbook import Gate, Playbook
from domain.state import ProductState
from playbooks import load_default_playbook
from store.event_store import EventStore
from store.events import NewEvent
from store.projections import ProductProjection
from tests.support.journey import (
    OWNER,
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    gatekeeper,
    register,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRACE = Actor(subject="pm-grace", display_name="Grace Hopper", roles=("product-manager",))
PLAYBOOK = load_default_playbook()


def new_id() -> str:
    return str(uuid.uuid4())


class Portfolio:
    """Products moved by commands, as the workflow would, and appended to the event store.

    Keeps each product's state as the workflow would hold it, the reference the projection
    must match. The clock moves a minute per command so stage entry times differ.
    """

    def __init__(self, store: EventStore, playbook: Playbook = PLAYBOOK) -> None:
        self.store = store
        self.playbook = playbook
        self.states: dict[str, ProductState] = {}
        self.clock = T0
        self.events_appended = 0

    async def run(self, product_id: str, command: Command) -> None:
        state = self.states.get(product_id, ProductState())
        events = decide(state, command, self.clock, new_id)
        self.clock += timedelta(minutes=1)
        correlation = {"workflow_id": f"product-{product_id}"}
        await self.store.append(
            f"product-{product_id}", state.version, [to_new_event(e, correlation) for e in events]
        )
        self.states[product_id] = evolve_all(state, events)
        self.events_appended += len(events)

    async def register(self, product_id: str, owner: Actor = OWNER) -> None:
        await self.run(product_id, register(product_id, self.playbook, owner))

    async def meet_criteria(self, product_id: str) -> None:
        for command in commands_to_meet_criteria(self.states[product_id], self._owner(product_id)):
            await self.run(product_id, command)

    async def pass_gate(self, product_id: str) -> None:
        await self.meet_criteria(product_id)
        for command in commands_to_sign_and_pass(self.states[product_id], self._owner(product_id)):
            await self.run(product_id, command)

    async def request_review(self, product_id: str) -> None:
        """Everything the gate asks for, then the review request: sign-offs now awaited."""
        await self.meet_criteria(product_id)
        request = commands_to_sign_and_pass(self.states[product_id], self._owner(product_id))[0]
        await self.run(product_id, request)

    async def reject(self, product_id: str) -> None:
        role = self._gate(product_id).sign_offs[0].role
        rejection = GiveSignOff(
            actor=gatekeeper(role), role=role, verdict=Verdict.REJECT, reason="not yet"
        )
        await self.run(product_id, rejection)

    async def kill(self, product_id: str) -> None:
        decider = self._gate(product_id).decider_roles[0]
        kill = DecideGate(
            actor=gatekeeper(decider, 99), outcome=GateOutcome.KILL, reason="no market"
        )
        await self.run(product_id, kill)

    async def retire(self, product_id: str) -> None:
        while not self.states[product_id].is_terminal:
            await self.pass_gate(product_id)

    async def append_other(self, stream_id: str, count: int = 1) -> None:
        """Events of a stream the product projection does not follow."""
        version = await self.store.stream_version(stream_id)
        events = [
            NewEvent(
                event_id=uuid.uuid4(),
                type="SomethingElse",
                schema_version=1,
                data={"n": n, "anything": "goes"},
                recorded_at=self.clock,
            )
            for n in range(count)
        ]
        await self.store.append(stream_id, version, events)
        self.events_appended += count

    def _owner(self, product_id: str) -> Actor:
        return GRACE if self.states[product_id].owner == GRACE.subject else OWNER

    def _gate(self, product_id: str) -> Gate:
        gate = self.states[product_id].current_gate()
        assert gate is not None
        return gate


@pytest.fixture
def portfolio(event_store: EventStore) -> Portfolio:
    return Portfolio(event_store)


@pytest.fixture
def projection(app_pool: asyncpg.Pool, event_store: EventStore) -> ProductProjection:
    return ProductProjection(app_pool, event_store)


async def product_event_count(store: EventStore) -> int:
    events = await store.read_all(0, 100_000)
    return sum(1 for e in events if e.stream_id.startswith("product-"))


async def projected_rows(database_dsn: str) -> list[dict[str, Any]]:
    """Every projected row, state as stored text: what a rebuild must reproduce exactly."""
    conn = await asyncpg.connect(database_dsn)
    try:
        rows = await conn.fetch(
            "SELECT p.*, p.state::text AS state FROM product_states p ORDER BY product_id"
        )
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def folded_stream(store: EventStore, product_id: str) -> ProductState:
    stream = await store.read_stream(f"product-{product_id}")
    return evolve_all(ProductState(), [EVENT_ADAPTER.validate_python(e.data) for e in stream])


async def three_products(portfolio: Portfolio) -> None:
    """alpha waits in discovery; beta passed discovery and awaits planning sign-offs (owned
    by Grace); gamma was killed at the discovery gate."""
    await portfolio.register("alpha")
    await portfolio.register("beta", owner=GRACE)
    await portfolio.pass_gate("beta")
    await portfolio.request_review("beta")
    await portfolio.register("gamma")
    await portfolio.kill("gamma")
