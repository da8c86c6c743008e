"""Lifecycle throughput at the issue's scale: N products in flight, spread over the whole
journey, measured over a fixed window against N bare workflows.

Driving 1,000 products from registration to retirement sends 71,000 updates per system, which a
2-core machine cannot do inside `make bench` (about 15 minutes for ours and 10 for bare on the
faster of our machines). This mode keeps the N products in flight and measures the steady state
instead:

* **Spread over the journey.** Product i starts at journey step ``i * steps // N``. Every step
  before it is decided in the pure domain, its events appended to the store under the product's
  stream (as the append activity would) and the workflow started with the folded state, the
  way continue-as-new hands a run its state. So the window holds every kind of command the
  journey has (registrations, evidence, checklist, metrics, reviews, sign-offs, Go decisions
  and retirements) in the proportions the journey has them.
* **Always N in flight.** A product that retires inside the window is followed by a new one,
  registered from scratch.
* **Counted in the window only.** Updates answered in the first ``warmup`` seconds are not
  counted, nor those after ``warmup + window``; products per minute are the counted updates
  divided by the updates of one journey.
* **Checked after.** Once the drivers stop, every product's workflow must reach the version its
  stream holds (no decision lost, none stored without the workflow knowing it).

Bare workflows get the same N and window, each sent update after update.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import asyncpg
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from activities.event_log import to_new_event
from bench.bare import BareClient, BareStep
from bench.common import registration
from domain.commands import Command
from domain.decide import decide
from domain.evolve import evolve_all
from domain.state import ProductState
from store.event_store import EventStore
from store.events import NewEvent
from workflows.contracts import LifecycleStart, stream_id_for, workflow_id_for
from workflows.product_client import ProductLifecycleClient
from workflows.product_lifecycle import ProductLifecycleWorkflow

SEEDING_AT_ONCE = 50
# Seconds a command is sent again (each after the client's own 30 s of patience) before the
# run fails: a command still refused after that is no longer queueing, it is a bug.
BUSY_PATIENCE = 180.0


@dataclass
class Window:
    """Answer times (monotonic seconds) of every update, and when the window opens and shuts."""

    warmup: float
    seconds: float
    opened_at: float = 0.0
    answers: list[float] = field(default_factory=list)
    busy: int = 0

    def start(self) -> None:
        self.opened_at = time.monotonic() + self.warmup

    @property
    def shuts_at(self) -> float:
        return self.opened_at + self.seconds

    def counted(self) -> int:
        return sum(self.opened_at <= t < self.shuts_at for t in self.answers)

    async def answered(self, update: Awaitable[object]) -> None:
        await update
        self.answers.append(time.monotonic())

    async def until_admitted(self, send: Callable[[], Awaitable[object]]) -> None:
        """Sends again, after a second, what an overloaded server or worker answered "busy"
        to, as a client of the API does on its 503 (``send`` reuses one update id, so a
        command is never applied twice); counts how often. Gives up after BUSY_PATIENCE."""
        deadline = time.monotonic() + BUSY_PATIENCE
        while True:
            try:
                await send()
                return
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
                if time.monotonic() >= deadline:
                    raise
                self.busy += 1
                await asyncio.sleep(1)


def start_step(index: int, products: int, steps: int) -> int:
    """Where product ``index`` of ``products`` starts: 0 is registration, k > 0 means the
    registration and the journey's first k - 1 commands are already decided."""
    return index * steps // products


@dataclass(frozen=True)
class Seed:
    """A product placed at ``step`` of the journey: the events of its first ``step`` updates
    and the state they fold to (none at step 0, which starts with the registration)."""

    product_id: str
    step: int
    events: list[NewEvent]
    state: ProductState | None


def plan_seeds(commands: list[Command], n: int) -> list[Seed]:
    """Decides, in the pure domain, the first updates of N fresh products spread over the
    journey. Done before any worker runs: it is CPU work that would otherwise starve them."""
    now = datetime.now(UTC)
    seeds = []
    for index in range(n):
        product_id = f"bench-{uuid.uuid4().hex[:10]}"
        step = start_step(index, n, len(commands) + 1)
        state = ProductState()
        events: list[NewEvent] = []
        decided = [registration(product_id), *commands[: step - 1]] if step else []
        for number, command in enumerate(decided):
            produced = decide(state, command, now, lambda: str(uuid.uuid4()))
            state = evolve_all(state, produced)
            correlation = {
                "workflow_id": workflow_id_for(product_id),
                "command": command.type,
                "update_id": f"bench-seed-{number}",
            }
            events += [to_new_event(event, correlation) for event in produced]
        seeds.append(Seed(product_id, step, events, state if step else None))
    return seeds


async def store_seeds(pool: asyncpg.Pool, seeds: list[Seed]) -> None:
    """Appends each seeded product's events to its stream, as the append activity would."""
    store = EventStore(pool)
    gate = asyncio.Semaphore(SEEDING_AT_ONCE)

    async def one(seed: Seed) -> None:
        async with gate:
            await store.append(stream_id_for(seed.product_id), 0, seed.events)

    await asyncio.gather(*(one(seed) for seed in seeds if seed.events))


async def start_seeded(client: Client, task_queue: str, seeds: list[Seed]) -> None:
    """Starts every seeded product's workflow holding its folded state, as continue-as-new
    starts a run."""
    gate = asyncio.Semaphore(SEEDING_AT_ONCE)

    async def one(seed: Seed) -> None:
        async with gate:
            await client.start_workflow(
                ProductLifecycleWorkflow.run,
                LifecycleStart(product_id=seed.product_id, state=seed.state),
                id=workflow_id_for(seed.product_id),
                task_queue=task_queue,
            )

    await asyncio.gather(*(one(seed) for seed in seeds if seed.state is not None))


async def drive_ours(
    products: ProductLifecycleClient, seeds: list[Seed], commands: list[Command], window: Window
) -> list[str]:
    """Runs every product from its step until the window shuts, then lets the commands in
    flight finish; answers every product id driven (for the check)."""
    driven: list[str] = []

    async def journey_from(product_id: str, step: int) -> None:
        driven.append(product_id)
        if step == 0:
            await window.answered(products.register(registration(product_id)))
        for command in commands[max(step - 1, 0) :]:
            if time.monotonic() >= window.shuts_at:
                return
            update_id = str(uuid.uuid4())
            await window.answered(
                window.until_admitted(
                    partial(products.execute, product_id, command, update_id=update_id)
                )
            )

    async def lane(seed: Seed) -> None:
        await journey_from(seed.product_id, seed.step)
        while time.monotonic() < window.shuts_at:
            await journey_from(f"bench-{uuid.uuid4().hex[:10]}", 0)

    window.start()
    await asyncio.gather(*(lane(seed) for seed in seeds))
    return driven


async def drive_bare(bare: BareClient, n: int, window: Window) -> None:
    async def lane() -> None:
        workflow_id = f"bare-{uuid.uuid4().hex[:10]}"
        await window.answered(bare.start(workflow_id, BareStep("register")))
        step = 0
        while time.monotonic() < window.shuts_at:
            step += 1
            update_id = str(uuid.uuid4())
            payload = BareStep(f"command {step}")
            await window.answered(
                window.until_admitted(partial(bare.step, workflow_id, payload, update_id))
            )

    window.start()
    await asyncio.gather(*(lane() for _ in range(n)))


async def unsettled(
    products: ProductLifecycleClient, pool: asyncpg.Pool, product_ids: list[str], within: float
) -> list[str]:
    """The products whose workflow does not hold what its stream holds after ``within``
    seconds (an append still being answered settles; a lost or extra decision does not)."""
    store = EventStore(pool)

    async def settled(product_id: str) -> bool:
        stored = await store.stream_version(stream_id_for(product_id))
        try:
            view = await products.view(product_id)
        except RPCError:
            return False
        return view.state.version == stored

    deadline = time.monotonic() + within
    pending = list(product_ids)
    while pending and time.monotonic() < deadline:
        results = await asyncio.gather(*(settled(product_id) for product_id in pending))
        pending = [p for p, ok in zip(pending, results, strict=True) if not ok]
        if pending:
            await asyncio.sleep(1)
    return pending
