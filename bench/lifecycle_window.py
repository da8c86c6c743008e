"""Lifecycle throughput at the issue's scale: N products in flight, spread over the whole
journey, measured over a fixed window against N bare workflows.

Driving 1,000 products from registration to retirement sends 71,000 updates per system, which a
2-core machine cannot do inside `make bench` (about 15 minutes for ours and 10 for bare on the
faster of our machines). This mode keeps the N products in flight and measures the steady state
instead:

* **Spread over the journey.** Product i starts at journey step ``i * steps // N``. Every step
  before it is decided in the pure domain, its events appended to the store under the product's
  stream (as the append activity would) and the workflow started with the folded state, the
  way continue-as-new hands a run its state; the window opens only once every seeded workflow
  is loaded in the worker. So the window holds every kind of command the journey has
  (registrations, evidence, checklist, metrics, reviews, sign-offs, Go decisions and
  retirements) in the proportions the journey has them.
* **Always N in flight.** A product that retires inside the window is followed by a new one,
  registered from scratch.
* **Counted in the window only.** Updates answered in the first ``warmup`` seconds are not
  counted, nor those after ``warmup + window``; products per minute are the counted updates
  divided by the updates of one journey.
* **Busy answers are sent again**, as an API client does on a 503: same update id, a second
  later, for at most ``BUSY_PATIENCE``; counted. Ours has already waited out the client's own
  patience (30 s of backoff) by then, bare has no such patience, so its count is of single
  refusals.
* **Checked after.** Once the drivers stop, every product's stream must hold exactly the
  version its last answer reported, and its workflow the same (no decision lost, none applied
  twice, none stored without the workflow knowing it).

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
from typing import TypeVar

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
from workflows.contracts import CommandReceipt, LifecycleStart, stream_id_for, workflow_id_for
from workflows.product_client import ProductLifecycleClient, worth_retrying
from workflows.product_lifecycle import ProductLifecycleWorkflow

SEEDING_AT_ONCE = 50
# Seconds one command keeps being sent again before the run fails: a command refused that long
# is no longer queueing behind others, something is broken.
BUSY_PATIENCE = 180.0
# Seconds the seeded workflows get to be loaded by the worker before the run fails.
LOADING_PATIENCE = 600.0
T = TypeVar("T")


def is_busy(error: Exception) -> bool:
    """Refusals the product client gives up on after its own patience that still mean "not
    now": the same update may be sent again."""
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return True
    return isinstance(error, RPCError) and worth_retrying(error)


@dataclass
class Window:
    """Answer times (monotonic seconds) of every update, and when the window opens and shuts."""

    warmup: float
    seconds: float
    opened_at: float = 0.0
    answers: list[float] = field(default_factory=list)
    busy_retries: int = 0

    def start(self) -> None:
        self.opened_at = time.monotonic() + self.warmup

    @property
    def shuts_at(self) -> float:
        return self.opened_at + self.seconds

    def counted(self) -> int:
        return sum(self.opened_at <= t < self.shuts_at for t in self.answers)

    async def until_answered(self, send: Callable[[], Awaitable[T]]) -> T:
        """Sends again, a second later, what was refused as busy (``send`` reuses one update
        id, so a command is never applied twice) and records when the answer came. Fails the
        run after BUSY_PATIENCE, or at once when the caller is cancelled."""
        async with asyncio.timeout(BUSY_PATIENCE):
            while True:
                try:
                    answer = await send()
                except Exception as error:
                    current = asyncio.current_task()
                    if not is_busy(error) or (current is not None and current.cancelling()):
                        raise
                    self.busy_retries += 1
                    await asyncio.sleep(1)
                    continue
                self.answers.append(time.monotonic())
                return answer


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

    async with asyncio.TaskGroup() as group:
        for seed in seeds:
            if seed.events:
                group.create_task(one(seed))


async def start_seeded(client: Client, products: ProductLifecycleClient, seeds: list[Seed]) -> None:
    """Starts every seeded product's workflow holding its folded state, as continue-as-new
    starts a run, and returns once the worker has loaded each (answered a query), so that
    loading them is not counted against the window."""
    gate = asyncio.Semaphore(SEEDING_AT_ONCE)

    async def one(seed: Seed) -> None:
        async with gate:
            await client.start_workflow(
                ProductLifecycleWorkflow.run,
                LifecycleStart(product_id=seed.product_id, state=seed.state),
                id=workflow_id_for(seed.product_id),
                task_queue=products.task_queue,
            )
        while True:
            async with gate:
                try:
                    await products.view(seed.product_id)
                    return
                except RPCError:
                    pass
            await asyncio.sleep(1)

    async with asyncio.timeout(LOADING_PATIENCE), asyncio.TaskGroup() as group:
        for seed in seeds:
            if seed.state is not None:
                group.create_task(one(seed))


async def drive_ours(
    products: ProductLifecycleClient,
    seeds: list[tuple[str, int, int]],
    commands: list[Command],
    window: Window,
) -> dict[str, int]:
    """Runs every product, given as (id, step, stored version), from its step until the window
    shuts, then lets the commands in flight finish; answers, for every product driven, the
    version its last answer reported."""
    versions: dict[str, int] = {}

    async def journey_from(product_id: str, step: int) -> None:
        if step == 0:
            receipt = await window.until_answered(
                partial(products.register, registration(product_id), update_id=str(uuid.uuid4()))
            )
            versions[product_id] = receipt.version
        for command in commands[max(step - 1, 0) :]:
            if time.monotonic() >= window.shuts_at:
                return
            answered: CommandReceipt = await window.until_answered(
                partial(products.execute, product_id, command, update_id=str(uuid.uuid4()))
            )
            versions[product_id] = answered.version

    async def lane(product_id: str, step: int, stored: int) -> None:
        versions[product_id] = stored
        await journey_from(product_id, step)
        while time.monotonic() < window.shuts_at:
            await journey_from(f"bench-{uuid.uuid4().hex[:10]}", 0)

    window.start()
    async with asyncio.TaskGroup() as group:
        for product_id, step, stored in seeds:
            group.create_task(lane(product_id, step, stored))
    return versions


async def drive_bare(bare: BareClient, n: int, window: Window) -> None:
    async def lane() -> None:
        workflow_id = f"bare-{uuid.uuid4().hex[:10]}"
        await window.until_answered(partial(bare.start, workflow_id, BareStep("register")))
        step = 0
        while time.monotonic() < window.shuts_at:
            step += 1
            payload = BareStep(f"command {step}")
            await window.until_answered(partial(bare.step, workflow_id, payload, str(uuid.uuid4())))

    window.start()
    async with asyncio.TaskGroup() as group:
        for _ in range(n):
            group.create_task(lane())


async def unsettled(
    products: ProductLifecycleClient, pool: asyncpg.Pool, answered: dict[str, int]
) -> list[str]:
    """The products whose stream does not hold exactly the version their last answer reported,
    or whose workflow holds another (all commands have been answered by now)."""
    store = EventStore(pool)
    gate = asyncio.Semaphore(SEEDING_AT_ONCE)

    async def settled(product_id: str, version: int) -> bool:
        async with gate:
            stored = await store.stream_version(stream_id_for(product_id))
            view = await products.view(product_id)
        return stored == version == view.state.version

    results = await asyncio.gather(
        *(settled(product_id, version) for product_id, version in answered.items())
    )
    return [p for p, ok in zip(answered, results, strict=True) if not ok]
