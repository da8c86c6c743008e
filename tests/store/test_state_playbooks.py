"""The read model keeps each playbook once (migration 0010): a state row holds its state without
the playbook and names it by fingerprint, and readers get whole states back."""

from __future__ import annotations

import json

import asyncpg
import pytest

from activities.event_log import to_new_event
from domain.commands import AdoptPlaybook
from domain.decide import decide
from domain.state import ProductState
from store.projections import ProductProjection
from store.state_playbooks import KeptPlaybookMismatch, forget_parsed_playbooks
from tests.store.projection_story import (
    PLAYBOOK,
    T0,
    Portfolio,
    folded_stream,
    new_id,
    portfolio,
    projection,
    three_products,
)
from tests.support.journey import gatekeeper, register

__all__ = ["portfolio", "projection"]

NEXT_VERSION = PLAYBOOK.model_copy(update={"version": PLAYBOOK.version + 1})


@pytest.fixture(autouse=True)
def parse_kept_playbooks_afresh() -> None:
    """Each test reads the playbooks from its own database, not from an earlier test's."""
    forget_parsed_playbooks()


async def test_many_products_under_one_playbook_keep_it_once_and_read_back_whole(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await three_products(portfolio)
    await projection.catch_up()

    kept = await app_pool.fetch("SELECT fingerprint FROM product_state_playbooks")
    rows = await app_pool.fetch(
        "SELECT product_id, state::text AS state, playbook_fingerprint FROM product_states"
    )
    states = await projection.every_state()

    assert [row["fingerprint"] for row in kept] == [PLAYBOOK.fingerprint()]
    assert {row["playbook_fingerprint"] for row in rows} == {PLAYBOOK.fingerprint()}
    assert all(json.loads(row["state"])["playbook"] is None for row in rows)
    assert states == [portfolio.states[pid] for pid in ("alpha", "beta", "gamma")]
    assert all(state.playbook == PLAYBOOK for state in states)


async def test_products_under_different_versions_each_read_their_own_playbook(
    app_pool: asyncpg.Pool, projection: ProductProjection, portfolio: Portfolio
) -> None:
    await portfolio.register("old")
    newer = Portfolio(portfolio.store, NEXT_VERSION)
    await newer.register("new")
    await projection.catch_up()

    old, new = await projection.get_state("old"), await projection.get_state("new")
    kept = await app_pool.fetchval("SELECT count(*) FROM product_state_playbooks")

    assert old is not None
    assert new is not None
    assert old.playbook == PLAYBOOK
    assert new.playbook == NEXT_VERSION
    assert kept == 2


async def test_a_row_written_before_the_playbooks_were_kept_apart_is_read_as_before(
    portfolio: Portfolio, projection: ProductProjection, owner: asyncpg.Connection
) -> None:
    """Rows of a read model built before migration 0010 hold their playbook themselves."""
    await three_products(portfolio)
    await projection.catch_up()
    whole = portfolio.states["beta"].model_dump_json()
    await owner.execute(
        "UPDATE product_states SET state = $1::json, playbook_fingerprint = NULL "
        "WHERE product_id = 'beta'",
        whole,
    )

    beta = await projection.get_state("beta")
    reviews = await projection.states_with_open_reviews()

    assert beta == portfolio.states["beta"]
    assert reviews == [portfolio.states["beta"]]


async def test_the_projector_folds_onward_from_a_stored_state_and_its_kept_playbook(
    portfolio: Portfolio, app_pool: asyncpg.Pool, projection: ProductProjection
) -> None:
    """A later page loads the product's row (not the states the last page left in memory)."""
    await portfolio.register("alpha")
    await projection.catch_up()
    await portfolio.request_review("alpha")

    await ProductProjection(app_pool, portfolio.store).catch_up()

    assert await projection.get_state("alpha") == await folded_stream(portfolio.store, "alpha")


async def test_a_playbook_a_product_waits_to_adopt_is_kept_apart_too(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    """After a rollout effective at the next stage every active product holds a second playbook
    until it moves on; it must not bring the parsing cost back."""
    await portfolio.register("alpha")
    await portfolio.run(
        "alpha",
        AdoptPlaybook(
            actor=gatekeeper("product-lead"), playbook=NEXT_VERSION, reason="new criteria"
        ),
    )
    await projection.catch_up()

    row = await app_pool.fetchrow(
        "SELECT state::text AS state, playbook_fingerprint, pending_playbook_fingerprint "
        "FROM product_states"
    )
    forget_parsed_playbooks()
    alpha = await projection.get_state("alpha")

    assert row["playbook_fingerprint"] == PLAYBOOK.fingerprint()
    assert row["pending_playbook_fingerprint"] == NEXT_VERSION.fingerprint()
    assert json.loads(row["state"])["pending_playbook"] is None
    assert alpha == portfolio.states["alpha"]
    assert alpha is not None
    assert alpha.pending_playbook == NEXT_VERSION


async def test_a_playbook_whose_recorded_fingerprint_is_not_its_own_stays_in_its_row(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    """Kept apart, it would be kept under a fingerprint that names other rules."""
    registered = decide(ProductState(), register("odd", PLAYBOOK), T0, new_id)
    registered[0] = registered[0].model_copy(update={"playbook_fingerprint": "0" * 64})
    await portfolio.store.append(
        "product-odd", 0, [to_new_event(e, {"workflow_id": "product-odd"}) for e in registered]
    )
    await projection.catch_up()

    row = await app_pool.fetchrow("SELECT playbook_fingerprint FROM product_states")
    kept = await app_pool.fetchval("SELECT count(*) FROM product_state_playbooks")
    odd = await projection.get_state("odd")

    assert row["playbook_fingerprint"] is None
    assert kept == 0
    assert odd is not None
    assert odd.playbook == PLAYBOOK


async def test_a_kept_playbook_that_is_not_what_its_fingerprint_names_is_refused_until_a_rebuild(
    portfolio: Portfolio, projection: ProductProjection, owner: asyncpg.Connection
) -> None:
    await three_products(portfolio)
    await projection.catch_up()
    await owner.execute(
        "UPDATE product_state_playbooks SET playbook = $1::json", NEXT_VERSION.model_dump_json()
    )
    forget_parsed_playbooks()

    with pytest.raises(KeptPlaybookMismatch, match=PLAYBOOK.fingerprint()) as refused:
        await projection.every_state()
    await projection.rebuild()
    states = await projection.every_state()

    assert "rebuild the projection" in str(refused.value)
    assert states == [portfolio.states[pid] for pid in ("alpha", "beta", "gamma")]


async def test_the_app_role_cannot_rewrite_a_kept_playbook(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await portfolio.register("alpha")
    await projection.catch_up()

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute("UPDATE product_state_playbooks SET playbook = '{}'")


# -- parsed states kept between reads of the whole portfolio -------------------------------------


async def test_a_second_read_of_the_portfolio_parses_only_the_products_written_since(
    portfolio: Portfolio, projection: ProductProjection
) -> None:
    await three_products(portfolio)
    await projection.catch_up()
    first = await projection.every_state()
    parsed_first = projection.parsed_states.parsed

    again = await projection.every_state()
    parsed_again = projection.parsed_states.parsed - parsed_first
    await portfolio.request_review("alpha")
    await projection.catch_up()
    after_alpha = await projection.every_state()

    assert parsed_first == 3
    assert again == first
    assert parsed_again == 0
    assert projection.parsed_states.parsed == 3 + 1
    assert after_alpha == [portfolio.states[pid] for pid in ("alpha", "beta", "gamma")]
    assert after_alpha[0] != first[0]


async def test_a_row_rewritten_at_the_same_position_is_parsed_again(
    portfolio: Portfolio, projection: ProductProjection, owner: asyncpg.Connection
) -> None:
    """A rebuild (or a hand edit) rewrites rows whose last position does not move; the kept
    state must not outlive the row it was parsed from."""
    await three_products(portfolio)
    await projection.catch_up()
    await projection.every_state()
    renamed = portfolio.states["beta"].model_copy(update={"name": "Beta, renamed"})
    await owner.execute(
        "UPDATE product_states SET state = $1::json, playbook_fingerprint = NULL "
        "WHERE product_id = 'beta'",
        renamed.model_dump_json(),
    )

    states = {s.product_id: s for s in await projection.every_state()}

    assert states["beta"] == renamed
    assert projection.parsed_states.parsed == 3 + 1


async def test_products_a_rebuild_forgets_are_no_longer_read(
    portfolio: Portfolio, projection: ProductProjection, app_pool: asyncpg.Pool
) -> None:
    await three_products(portfolio)
    await projection.catch_up()
    await app_pool.execute(
        "INSERT INTO product_states SELECT 'ghost', name, owner, owner_name, stage, status, "
        "playbook_name, playbook_version, review_open, state, registered_at, stage_entered_at, "
        "last_position, playbook_fingerprint FROM product_states WHERE product_id = 'alpha'"
    )
    haunted = await projection.every_state()

    await projection.rebuild()
    rebuilt = await projection.every_state()
    active = await projection.every_state(status="active")

    assert len(haunted) == 4
    assert len(projection.parsed_states) == 3  # the ghost's state is no longer kept
    assert [s.product_id for s in rebuilt] == ["alpha", "beta", "gamma"]
    assert [s.product_id for s in active] == ["alpha", "beta"]
    assert rebuilt == [portfolio.states[pid] for pid in ("alpha", "beta", "gamma")]
