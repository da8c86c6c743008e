"""The product read model built from the log: one summary per product, the approvals inbox,
filters and pages. (How it follows the log is in test_product_projection_following.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from domain.stages import Stage
from store.event_store import EventStore
from store.projections import ProductProjection, ProductSummary
from tests.store.projection_story import (
    GRACE,
    PLAYBOOK,
    Portfolio,
    folded_stream,
    portfolio,
    projection,
    three_products,
)
from tests.support.journey import (
    commands_to_sign_and_pass,
)

__all__ = ["portfolio", "projection"]


# -- building the read model --------------------------------------------------------------------


async def test_catch_up_builds_one_summary_per_product_from_their_events(
    portfolio: Portfolio, projection: ProductProjection, event_store: EventStore
) -> None:
    await three_products(portfolio)

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
    await three_products(portfolio)
    await portfolio.register("omega")
    await portfolio.retire("omega")

    await projection.catch_up(batch_size=5)

    for product_id, state in portfolio.states.items():
        projected = await projection.get_state(product_id)
        assert projected == state
        assert projected == await folded_stream(event_store, product_id)


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
    await three_products(portfolio)
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
    await three_products(portfolio)
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


async def test_every_state_reads_the_whole_portfolio_page_by_page(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    """The board, the inbox and a playbook rollout read through this: a portfolio larger than
    a page must come back whole, not cut at the first page."""
    for product_id in ("e", "a", "d", "c", "b"):
        await portfolio.register(product_id)
    await portfolio.kill("c")
    await projection.catch_up()

    everything = await projection.every_state(page_size=2)
    active = await projection.every_state(status="active", page_size=2)  # two full pages
    after_b = await projection.list_states(limit=2, after="b")

    assert [s.product_id for s in everything] == ["a", "b", "c", "d", "e"]
    assert [s.product_id for s in active] == ["a", "b", "d", "e"]
    assert [s.product_id for s in after_b] == ["c", "d"]


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
