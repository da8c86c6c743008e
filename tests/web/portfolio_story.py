"""A portfolio with known stays and decisions, written straight to the event log.

The pure domain decides each step at an instant the test picks (a workflow would stamp the
time-skipping server's clock instead), and the events go to the store exactly as the append
activity writes them. The board reads the read model and the trail, both fed from that log, so
every figure on the page is known in advance.

Days from T0, for the default playbook:

| product | story (review asked -> signed and Go)                          | current stage |
| ------- | -------------------------------------------------------------- | ------------- |
| atlas   | discovery asked day 1, Go day 2; planning asked 3, Go 6        | development   |
| beacon  | Hold at discovery day 1, Resume day 2, asked day 2, Go day 5   | planning      |
| comet   | discovery asked day 0.5, Go day 1; Kill at planning on day 3   | killed        |
| dingo   | registered day 1, Kill at discovery on day 2                   | killed        |
| fable   | discovery asked day 1, Go day 3                                | planning      |
| eve     | registered day 3, nothing decided                              | discovery     |

Finished stays: discovery 2, 5, 1, 1, 3 days (median 2, p90 5); planning 4, 2 (median 2, p90 4).
First pass: discovery 3 of 5 (beacon held, dingo killed), planning 1 of 2 (comet killed).
Approval latency: product-lead 1, 3, 0.5, 2 (discovery) and 3 (planning) days: median 2, p90 3;
engineering-lead, exec-sponsor and finance (optional, signed anyway) 3 days each (planning).
Killed: one in discovery, one in planning.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from activities.event_log import to_new_event
from domain.commands import Command, DecideGate, GateOutcome
from domain.decide import decide
from domain.evolve import evolve_all
from domain.playbook import Playbook
from domain.state import ProductState
from store.event_store import EventStore
from tests.support.journey import (
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    gatekeeper,
    register,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Portfolio:
    """Products walked by the pure domain at chosen instants, appended to the log."""

    def __init__(self, store: EventStore, playbook: Playbook) -> None:
        self.store = store
        self.playbook = playbook
        self.states: dict[str, ProductState] = {}

    async def run(self, product_id: str, commands: Sequence[Command], at: datetime) -> None:
        before = self.states.get(product_id, ProductState())
        state, events = before, []
        for command in commands:
            new = decide(state, command, at, lambda: str(uuid.uuid4()))
            state = evolve_all(state, new)
            events += new
        stored = [to_new_event(event, {"product_id": product_id}) for event in events]
        await self.store.append(f"product-{product_id}", before.version, stored)
        self.states[product_id] = state

    async def register(self, product_id: str, at: datetime) -> None:
        await self.run(product_id, [register(product_id, self.playbook)], at)

    async def go(self, product_id: str, at: datetime, asked: datetime | None = None) -> None:
        """Criteria met and a review requested at `asked`, signed and passed at `at`."""
        asked = asked or at
        await self.run(product_id, commands_to_meet_criteria(self.states[product_id]), asked)
        walk = commands_to_sign_and_pass(self.states[product_id])
        await self.run(product_id, walk[:1], asked)  # the review request
        await self.run(product_id, walk[1:], at)

    async def decide(self, product_id: str, outcome: GateOutcome, at: datetime) -> None:
        gate = self.states[product_id].current_gate()
        assert gate is not None
        decider = gatekeeper(gate.decider_roles[0], 99)
        command = DecideGate(actor=decider, outcome=outcome, reason=f"{outcome.value} for now")
        await self.run(product_id, [command], at)


async def known_portfolio(store: EventStore, playbook: Playbook) -> Portfolio:
    portfolio = Portfolio(store, playbook)
    for product_id in ("atlas", "beacon", "comet", "fable"):
        await portfolio.register(product_id, day(0))
    await portfolio.register("dingo", day(1))
    await portfolio.register("eve", day(3))
    await portfolio.go("atlas", day(2), asked=day(1))
    await portfolio.go("atlas", day(6), asked=day(3))
    await portfolio.decide("beacon", GateOutcome.HOLD, day(1))
    await portfolio.decide("beacon", GateOutcome.RESUME, day(2))
    await portfolio.go("beacon", day(5), asked=day(2))
    await portfolio.go("comet", day(1), asked=day(0.5))
    await portfolio.decide("comet", GateOutcome.KILL, day(3))
    await portfolio.decide("dingo", GateOutcome.KILL, day(2))
    await portfolio.go("fable", day(3), asked=day(1))
    return portfolio
