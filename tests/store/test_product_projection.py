"""The product read model, fed from events the domain decided and the store recorded.

Products are driven the way the workflow drives them: ``domain.decide`` turns a command into
events, the append activity's encoding turns those into ``NewEvent``s, the store appends them.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
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
from domain.stages import Stage
from domain.state import ProductState
from playbooks import load_default_playbook
from store.event_store import EventStore
from store.events import NewEvent, RecordedEvent
from store.migrations import create_app_pool
from store.projections import ProductProjection, ProductSummary, ProjectionError
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


def _new_id() -> str:
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
        events = decide(state, command, self.clock, _new_id)
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


async def _product_event_count(store: EventStore) -> int:
    events = await store.read_all(0, 100_000)
    return sum(1 for e in events if e.stream_id.startswith("product-"))


async def _rows(database_dsn: str) -> list[dict[str, Any]]:
    """Every projected row, state as stored text: what a rebuild must reproduce exactly."""
    conn = await asyncpg.connect(database_dsn)
    try:
        rows = await conn.fetch(
            "SELECT p.*, p.state::text AS state FROM product_states p ORDER BY product_id"
        )
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def _folded_stream(store: EventStore, product_id: str) -> ProductState:
    stream = await store.read_stream(f"product-{product_id}")
    return evolve_all(ProductState(), [EVENT_ADAPTER.validate_python(e.data) for e in stream])


async def _three_products(portfolio: Portfolio) -> None:
    """alpha waits in discovery; beta passed discovery and awaits planning sign-offs (owned
    by Grace); gamma was killed at the discovery gate."""
    await portfolio.register("alpha")
    await portfolio.register("beta", owner=GRACE)
    await portfolio.pass_gate("beta")
    await portfolio.request_review("beta")
    await portfolio.register("gamma")
    await portfolio.kill("gamma")


# -- building the read model --------------------------------------------------------------------


async def test_catch_up_builds_one_summary_per_product_from_their_events(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await _three_products(portfolio)

    applied = await projection.catch_up()

    assert applied == portfolio.events_appended
    summaries = {s.product_id: s for s in await projection.list_products()}
    assert list(summaries) == ["alpha", "beta", "gamma"]
    for product_id, summary in summaries.items():
        state = portfolio.states[product_id]
        [last] = await event_store.read_stream(f"product-{product_id}", state.version - 1)
        assert summary == ProductSummary(
            product_id=product_id,
            name=f"Product {product_id}",
            owner=state.owner,
            owner_name=state.owner_name,
            stage=state.stage,
            status="killed" if product_id == "gamma" else "active",
            playbook_name=PLAYBOOK.name,
            playbook_version=PLAYBOOK.version,
            registered_at=state.history[0].entered_at,
            stage_entered_at=state.history[-1].entered_at,
            review_open=product_id == "beta",
            last_position=last.position,
        )
    assert summaries["beta"].stage is Stage.PLANNING
    assert summaries["beta"].stage_entered_at > summaries["beta"].registered_at
    assert summaries["gamma"].stage is Stage.KILLED


async def test_a_product_walked_to_the_end_is_retired(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await portfolio.register("omega")
    await portfolio.retire("omega")

    await projection.catch_up(batch_size=7)

    [summary] = await projection.list_products()
    assert (summary.stage, summary.status, summary.review_open) == (
        Stage.RETIRED,
        "retired",
        False,
    )


async def test_the_projected_state_equals_folding_the_products_stream(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await _three_products(portfolio)
    await portfolio.register("omega")
    await portfolio.retire("omega")

    await projection.catch_up(batch_size=5)

    for product_id, state in portfolio.states.items():
        projected = await projection.get_state(product_id)
        assert projected == state
        assert projected == await _folded_stream(event_store, product_id)


async def test_an_unknown_product_has_no_state(projection: ProductProjection) -> None:
    await projection.catch_up()

    assert await projection.get_state("nothing-here") is None


async def test_an_empty_log_projects_nothing(projection: ProductProjection) -> None:
    assert await projection.catch_up() == 0
    assert await projection.checkpoint() == 0
    assert await projection.list_products() == []


# -- the approvals inbox ------------------------------------------------------------------------


async def test_only_reviews_awaiting_sign_offs_are_open(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await _three_products(portfolio)
    await portfolio.register("delta")
    await portfolio.request_review("delta")
    await portfolio.reject("delta")  # a rejection blocks the round until a new request
    await portfolio.register("epsilon")
    await portfolio.request_review("epsilon")

    await projection.catch_up()

    open_reviews = await projection.states_with_open_reviews()
    assert [s.product_id for s in open_reviews] == ["beta", "epsilon"]
    assert open_reviews == [portfolio.states["beta"], portfolio.states["epsilon"]]


async def test_a_review_closes_when_its_gate_is_passed(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await portfolio.register("alpha")
    await portfolio.request_review("alpha")
    await projection.catch_up()
    assert [s.product_id for s in await projection.states_with_open_reviews()] == ["alpha"]

    state = portfolio.states["alpha"]
    for command in commands_to_sign_and_pass(state)[1:]:  # approvals and Go, no new request
        await portfolio.run("alpha", command)
    await projection.catch_up()

    assert await projection.states_with_open_reviews() == []
    [summary] = await projection.list_products()
    assert (summary.stage, summary.review_open) == (Stage.PLANNING, False)


# -- filters and pages --------------------------------------------------------------------------


async def test_products_are_filtered_by_stage_status_and_owner(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await _three_products(portfolio)
    await portfolio.register("delta", owner=GRACE)
    await projection.catch_up()

    async def ids(**filters: Any) -> list[str]:
        return [s.product_id for s in await projection.list_products(**filters)]

    assert await ids(stage=Stage.DISCOVERY) == ["alpha", "delta"]
    assert await ids(stage=Stage.PLANNING) == ["beta"]
    assert await ids(status="active") == ["alpha", "beta", "delta"]
    assert await ids(status="killed") == ["gamma"]
    assert await ids(status="retired") == []
    assert await ids(owner=GRACE.subject) == ["beta", "delta"]
    assert await ids(owner=GRACE.subject, stage=Stage.DISCOVERY, status="active") == ["delta"]
    assert await ids(owner="nobody") == []


async def test_products_come_in_pages_ordered_by_id(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    for product_id in ("e", "a", "d", "c", "b"):
        await portfolio.register(product_id)
    await projection.catch_up()

    pages = [
        [s.product_id for s in await projection.list_products(limit=2, offset=offset)]
        for offset in (0, 2, 4, 6)
    ]

    assert pages == [["a", "b"], ["c", "d"], ["e"], []]


@pytest.mark.parametrize(
    ("filters", "problem"),
    [
        ({"status": "paused"}, "status 'paused' is not one of active, killed, retired"),
        ({"stage": "nowhere"}, "'nowhere' is not a valid Stage"),
        ({"limit": 0}, "limit must be between 1 and 1000, got 0"),
        ({"limit": 1001}, "limit must be between 1 and 1000, got 1001"),
        ({"offset": -1}, "offset must not be negative, got -1"),
    ],
)
async def test_a_listing_out_of_bounds_is_refused_by_name(
    projection: ProductProjection, filters: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        await projection.list_products(**filters)


async def test_a_batch_size_below_one_is_refused(projection: ProductProjection) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        await projection.catch_up(batch_size=0)


# -- exactly once -------------------------------------------------------------------------------


async def test_catching_up_again_applies_nothing_and_then_only_what_is_new(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await _three_products(portfolio)
    await projection.catch_up(batch_size=4)
    head, _ = await event_store.head()

    assert await projection.catch_up() == 0
    assert await projection.checkpoint() == head

    await portfolio.register("delta")
    assert await projection.catch_up() == portfolio.states["delta"].version
    assert await projection.get_state("delta") == portfolio.states["delta"]


async def test_concurrent_projectors_apply_every_event_exactly_once(
    portfolio: Portfolio, app_pool: asyncpg.Pool, event_store: EventStore, database_dsn: str
) -> None:
    await _three_products(portfolio)
    await portfolio.register("omega")
    await portfolio.retire("omega")
    # Separate pools: each projector has its own connections, as separate API processes would.
    pools = [await create_app_pool(database_dsn, min_size=1, max_size=2) for _ in range(3)]
    try:
        projectors = [ProductProjection(p, EventStore(p)) for p in (app_pool, *pools)]

        applied = await asyncio.gather(*(p.catch_up(batch_size=3) for p in projectors))
    finally:
        for pool in pools:
            await pool.close()

    head, _ = await event_store.head()
    assert sum(applied) == await _product_event_count(event_store)
    assert await projectors[0].checkpoint() == head
    for product_id, state in portfolio.states.items():
        assert await projectors[0].get_state(product_id) == state


async def test_concurrent_projectors_racing_new_appends_still_apply_each_event_once(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")

    async def keep_appending() -> None:
        for n in range(6):
            await portfolio.register(f"p{n}")
            await portfolio.append_other(f"other-{n}")

    async def keep_projecting() -> int:
        total = 0
        for _ in range(10):
            total += await projection.catch_up(batch_size=2)
            await asyncio.sleep(0)
        return total

    results = await asyncio.gather(keep_appending(), keep_projecting(), keep_projecting())
    final = await projection.catch_up()

    assert sum(results[1:]) + final == await _product_event_count(event_store)
    assert await projection.checkpoint() == (await event_store.head())[0]
    for product_id, state in portfolio.states.items():
        assert await projection.get_state(product_id) == state


async def test_a_rebuild_ends_identical_to_incremental_catch_up(
    portfolio: Portfolio, projection: ProductProjection, database_dsn: str
) -> None:
    await portfolio.register("alpha")
    await projection.catch_up()
    await portfolio.register("beta", owner=GRACE)
    await portfolio.append_other("audit-1", 3)
    await portfolio.pass_gate("beta")
    await projection.catch_up(batch_size=2)
    await portfolio.request_review("beta")
    await portfolio.register("gamma")
    await portfolio.kill("gamma")
    await projection.catch_up(batch_size=5)
    incremental = await _rows(database_dsn)
    checkpoint = await projection.checkpoint()

    applied = await projection.rebuild()

    assert await _rows(database_dsn) == incremental
    assert await projection.checkpoint() == checkpoint
    assert applied == sum(state.version for state in portfolio.states.values())


async def test_a_rebuild_forgets_rows_no_event_supports(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await portfolio.register("alpha")
    await projection.catch_up()
    await app_pool.execute(
        "UPDATE product_states SET name = 'tampered'; "
        "INSERT INTO product_states SELECT 'ghost', name, owner, owner_name, stage, status, "
        "playbook_name, playbook_version, review_open, state, registered_at, stage_entered_at, "
        "last_position FROM product_states"
    )

    await projection.rebuild()

    assert [s.product_id for s in await projection.list_products()] == ["alpha"]
    assert (await projection.list_products())[0].name == "Product alpha"


# -- streams it does not follow, events it cannot fold ------------------------------------------


async def test_other_streams_are_skipped_but_advance_the_checkpoint(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.append_other("user-ada", 2)
    await portfolio.register("alpha")
    await portfolio.append_other("products-report")  # similar prefix, not a product stream
    await portfolio.append_other("notification-1", 3)

    applied = await projection.catch_up(batch_size=2)

    assert applied == portfolio.states["alpha"].version
    assert await projection.checkpoint() == (await event_store.head())[0]
    assert [s.product_id for s in await projection.list_products()] == ["alpha"]


async def test_a_log_of_only_other_streams_moves_the_checkpoint_and_applies_nothing(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await portfolio.append_other("user-ada", 4)

    assert await projection.catch_up(batch_size=3) == 0
    assert await projection.checkpoint() == 4


async def _append_raw(store: EventStore, stream_id: str, data: dict[str, Any]) -> RecordedEvent:
    version = await store.stream_version(stream_id)
    event = NewEvent(
        event_id=uuid.uuid4(), type="Broken", schema_version=1, data=data, recorded_at=T0
    )
    result = await store.append(stream_id, version, [event])
    [recorded] = await store.read_all(result.last_position - 1, 1)
    return recorded


async def test_an_event_that_cannot_be_parsed_stops_the_projection_right_before_it(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")
    bad = await _append_raw(event_store, "product-alpha", {"type": "Nonsense"})
    await portfolio.register("beta")

    for _ in range(2):  # and again: a poison event is never skipped
        with pytest.raises(ProjectionError, match="not a product event") as stopped:
            await projection.catch_up()
        assert (stopped.value.position, stopped.value.stream_id) == (bad.position, bad.stream_id)
        assert await projection.checkpoint() == bad.position - 1

    assert await projection.get_state("alpha") == portfolio.states["alpha"]
    assert await projection.get_state("beta") is None


async def test_a_product_stream_not_starting_with_registration_is_refused(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await portfolio.register("alpha")
    [registered] = await event_store.read_stream("product-alpha", 0)
    data = {**registered.data, "product_id": "beta", "type": "ChecklistItemCompleted"}
    data = {k: data[k] for k in ("event_id", "product_id", "occurred_at", "actor", "type")}
    await _append_raw(
        event_store, "product-beta", {**data, "gate": "discovery", "item": "x", "note": ""}
    )

    with pytest.raises(ProjectionError, match="ChecklistItemCompleted cannot be folded"):
        await projection.catch_up()
    assert await projection.get_state("beta") is None


async def test_an_event_about_another_product_than_its_stream_is_refused(
    projection: ProductProjection, event_store: EventStore
) -> None:
    other = Portfolio(event_store)
    await other.register("alpha")
    [registered] = await event_store.read_stream("product-alpha", 0)
    await _append_raw(event_store, "product-beta", registered.data | {"event_id": _new_id()})

    with pytest.raises(ProjectionError, match="event is about product 'alpha'"):
        await projection.catch_up()


# -- running in the background ------------------------------------------------------------------


async def _wait_for(projection: ProductProjection, position: int) -> None:
    async with asyncio.timeout(10):
        # The checkpoint lives in Postgres; polling it is the only way to observe it.
        while await projection.checkpoint() < position:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_the_runner_follows_the_log_until_cancelled(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    runner = asyncio.create_task(projection.run(poll_interval=0.01))
    try:
        await portfolio.register("alpha")
        await _wait_for(projection, (await event_store.head())[0])
        await portfolio.register("beta")
        await _wait_for(projection, (await event_store.head())[0])
    finally:
        runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner

    assert [s.product_id for s in await projection.list_products()] == ["alpha", "beta"]


class FlakyEventStore(EventStore):
    """Loses its connection on the first reads, as during a database restart."""

    def __init__(self, pool: asyncpg.Pool, failures: int) -> None:
        super().__init__(pool)
        self.failures = failures

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        if self.failures > 0:
            self.failures -= 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        return await super().read_all(after_position, limit)


async def test_the_runner_outlives_a_lost_connection_and_says_so(
    portfolio: Portfolio,
    app_pool: asyncpg.Pool,
    event_store: EventStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await portfolio.register("alpha")
    flaky = FlakyEventStore(app_pool, failures=3)
    projection = ProductProjection(app_pool, flaky)

    with caplog.at_level(logging.WARNING, logger="store.projections"):
        runner = asyncio.create_task(projection.run(poll_interval=0.01))
        try:
            await _wait_for(projection, (await event_store.head())[0])
        finally:
            runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner

    assert flaky.failures == 0
    failures = [r for r in caplog.records if "product projection failed" in r.getMessage()]
    assert len(failures) == 3
    assert await projection.get_state("alpha") == portfolio.states["alpha"]


def test_a_projection_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ProjectionError(7, "product-x", "bad")))

    assert (error.position, error.stream_id, error.problem) == (7, "product-x", "bad")
    assert str(error) == "cannot project event at position 7 (product-x): bad"
