"""Moving running products to a newer playbook version through the API: dry run first, then
per product at its next stage or now, each move decided and audited by the product itself."""

from typing import Any

import pytest

from api.routes import playbook_migrations
from tests.api.conftest import ApiHarness
from tests.support.journey import commands_to_meet_criteria, commands_to_sign_and_pass, register
from tests.support.playbook_versions import V1, V2
from workflows.product_client import ProductLifecycleClient


async def two_products_on_v1(products: ProductLifecycleClient, prefix: str) -> list[str]:
    ids = [f"{prefix}-a", f"{prefix}-b"]
    for product_id in ids:
        await products.register(register(product_id, V1))
    return ids


async def migrate(api: ApiHarness, headers: dict[str, str], **body: Any) -> Any:
    return await api.http.post(
        "/playbooks/default/migrations",
        json={"reason": "eight interviews", **body},
        headers=headers,
    )


async def test_a_dry_run_lists_each_product_with_its_changed_criteria_and_changes_nothing(
    api: ApiHarness, products: ProductLifecycleClient, product_id: str
) -> None:
    ids = await two_products_on_v1(products, product_id)
    api.services.playbooks["default"] = V2
    lead = await api.person("lead-1", ["product-lead"])

    response = await migrate(api, lead)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert report["to_version"] == V2.version
    mine = {p["product_id"]: p for p in report["products"] if p["product_id"] in ids}
    assert set(mine) == set(ids)
    for line in mine.values():
        assert line["outcome"] == "would_apply"
        assert line["from_version"] == V1.version
        (change,) = line["changes"]
        assert change["change"] == "changed"
        assert "0 of 8" in change["after"]
    for product in ids:
        assert (await products.view(product)).state.playbook == V1


async def test_applied_for_the_next_stage_the_product_keeps_its_gate_then_runs_the_new_version(
    api: ApiHarness, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    api.services.playbooks["default"] = V2
    lead = await api.person("lead-2", ["product-lead"])

    response = await migrate(api, lead, apply=True, products=[product_id])

    assert response.status_code == 200, response.text
    (line,) = response.json()["products"]
    assert line["outcome"] == "applied"
    state = (await products.view(product_id)).state
    assert state.playbook == V1
    assert state.pending_playbook == V2
    for command in commands_to_meet_criteria(state):
        await products.execute(product_id, command)
    for command in commands_to_sign_and_pass((await products.view(product_id)).state):
        await products.execute(product_id, command)
    shown = (await api.http.get(f"/products/{product_id}", headers=lead)).json()
    assert shown["stage"] == "planning"
    assert shown["playbook"]["version"] == V2.version


async def test_applied_now_the_new_criteria_hold_at_once_and_the_trail_records_the_change(
    api: ApiHarness, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    api.services.playbooks["default"] = V2
    lead = await api.person("lead-3", ["product-lead"])

    response = await migrate(api, lead, apply=True, effective="now", products=[product_id])

    assert response.status_code == 200, response.text
    shown = (await api.http.get(f"/products/{product_id}", headers=lead)).json()
    assert shown["playbook"]["version"] == V2.version
    interviews = next(c for c in shown["gate"]["criteria"] if c["key"] == "customer-interview")
    assert "0 of 8" in interviews["reason"]
    trail = (await api.http.get(f"/products/{product_id}/events", headers=lead)).json()
    assert "PlaybookAdopted" in str(trail)


async def test_beyond_one_requests_worth_the_report_counts_the_rest_and_says_where_they_start(
    api: ApiHarness,
    products: ProductLifecycleClient,
    product_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = await two_products_on_v1(products, product_id)
    api.services.playbooks["default"] = V2
    monkeypatch.setattr(playbook_migrations, "MAX_PRODUCTS", 1)
    lead = await api.person("lead-5", ["product-lead"])

    preview = (await migrate(api, lead)).json()
    rest = (await migrate(api, lead, after=preview["next_after"])).json()
    applied = (await migrate(api, lead, apply=True)).json()
    after_applying = (await migrate(api, lead)).json()
    bad_cursor = await migrate(api, lead, after="Not An Id")

    assert [p["product_id"] for p in preview["products"]] == [first]
    assert (preview["remaining"], preview["next_after"]) == (1, first)
    assert [p["product_id"] for p in rest["products"]] == [second]
    assert (rest["remaining"], rest["next_after"]) == (0, None)
    assert [(p["product_id"], p["outcome"]) for p in applied["products"]] == [(first, "applied")]
    # the first now waits for its next stage to adopt V2, so it is not offered the move again
    assert [p["product_id"] for p in after_applying["products"]] == [second]
    assert after_applying["remaining"] == 0
    assert bad_cursor.status_code == 422
    assert "after" in bad_cursor.text


async def test_someone_who_is_not_a_gatekeeper_sees_each_move_refused_with_the_rule(
    api: ApiHarness, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    api.services.playbooks["default"] = V2
    pm = await api.person("pm-9", ["product-manager"])

    preview = (await migrate(api, pm, products=[product_id])).json()
    applied = await migrate(api, pm, apply=True, products=[product_id])

    assert preview["products"][0]["outcome"] == "would_be_refused"
    assert preview["products"][0]["rule"] == "playbook.not_a_gatekeeper"
    assert applied.status_code == 200
    line = applied.json()["products"][0]
    assert line["outcome"] == "refused"
    assert line["rule"] == "playbook.not_a_gatekeeper"
    assert "pm-9" in line["message"]
    assert (await products.view(product_id)).state.pending_playbook is None


async def test_an_unknown_playbook_an_uninstalled_version_and_a_missing_reason_are_refused(
    api: ApiHarness,
) -> None:
    lead = await api.person("lead-4", ["product-lead"])

    unknown = await api.http.post(
        "/playbooks/nosuch/migrations", json={"reason": "x"}, headers=lead
    )
    wrong_version = await migrate(api, lead, to_version=99)
    no_reason = await api.http.post("/playbooks/default/migrations", json={}, headers=lead)
    missing_product = await migrate(api, lead, products=["no-such-product"])

    assert unknown.status_code == 404
    assert unknown.json()["error"]["rule"] == "playbook.unknown"
    assert wrong_version.status_code == 422
    assert wrong_version.json()["error"]["rule"] == "playbook.version_not_installed"
    assert no_reason.status_code == 422
    assert missing_product.status_code == 404
    assert "no-such-product" in missing_product.json()["error"]["message"]
