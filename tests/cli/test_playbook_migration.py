"""`lifecycle playbook migrate` against a live API: a dry run that changes nothing, an applied
move, and a refused one that exits 1 naming the rule."""

import pytest

from api.routes import playbook_migrations
from tests.cli.conftest import LiveApi
from tests.support.journey import register
from tests.support.playbook_versions import V1, V2


async def test_a_dry_run_shows_the_changed_criteria_and_says_nothing_changed(
    live_api: LiveApi, product_id: str
) -> None:
    await live_api.services.products.register(register(product_id, V1))
    live_api.services.playbooks["default"] = V2
    lead = live_api.as_(await live_api.token_for("lead-1", ["product-lead"]))

    run = (await lead("playbook", "migrate", "default", "--reason", "eight interviews",
                      "--product", product_id)).ok()  # fmt: skip

    assert product_id in run.stdout
    assert "would apply" in run.stdout
    assert "0 of 8" in run.stdout
    assert "dry run: nothing changed" in run.stdout
    state = (await live_api.services.products.view(product_id)).state
    assert state.pending_playbook is None


async def test_applied_the_product_waits_for_its_next_stage_with_the_new_version(
    live_api: LiveApi, product_id: str
) -> None:
    await live_api.services.products.register(register(product_id, V1))
    live_api.services.playbooks["default"] = V2
    lead = live_api.as_(await live_api.token_for("lead-2", ["product-lead"]))

    run = (await lead("-o", "json", "playbook", "migrate", "default", "--reason", "v2",
                      "--product", product_id, "--apply")).ok()  # fmt: skip

    assert run.json()["products"][0]["outcome"] == "applied"
    state = (await live_api.services.products.view(product_id)).state
    assert state.pending_playbook == V2


async def test_a_refused_move_exits_1_and_names_the_rule(
    live_api: LiveApi, product_id: str
) -> None:
    await live_api.services.products.register(register(product_id, V1))
    live_api.services.playbooks["default"] = V2
    pm = live_api.as_(await live_api.token_for("pm-2", ["product-manager"]))

    run = await pm("playbook", "migrate", "default", "--reason", "v2", "--product", product_id,
                   "--apply")  # fmt: skip

    assert run.exit_code == 1
    assert "playbook.not_a_gatekeeper" in run.stdout
    assert (await live_api.services.products.view(product_id)).state.pending_playbook is None


async def test_products_beyond_one_requests_worth_are_counted_with_what_to_do_next(
    live_api: LiveApi, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for suffix in ("a", "b"):
        await live_api.services.products.register(register(f"{product_id}-{suffix}", V1))
    live_api.services.playbooks["default"] = V2
    monkeypatch.setattr(playbook_migrations, "MAX_PRODUCTS", 1)
    lead = live_api.as_(await live_api.token_for("lead-3", ["product-lead"]))

    run = (await lead("playbook", "migrate", "default", "--reason", "v2")).ok()
    rest = (await lead("playbook", "migrate", "default", "--reason", "v2",
                       "--after", f"{product_id}-a")).ok()  # fmt: skip

    assert f"{product_id}-a" in run.stdout
    assert f"{product_id}-b" not in run.stdout
    said = " ".join(run.stdout.split())
    assert (
        f"1 more product(s) wait beyond the 1 above: run again with --after {product_id}-a" in said
    )
    assert f"{product_id}-b" in rest.stdout
    assert f"{product_id}-a" not in rest.stdout
    assert "more product(s) wait" not in rest.stdout
