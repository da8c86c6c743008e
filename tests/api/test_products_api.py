from datetime import timedelta

import pytest

from domain.stages import LIFECYCLE_PATH
from tests.api.conftest import ApiHarness
from tests.api.http_journey import People, send
from tests.support.journey import OWNER, commands_to_meet_criteria, commands_to_sign_and_pass


@pytest.fixture
def people(api: ApiHarness) -> People:
    return People(api)


async def register(api: ApiHarness, people: People, product_id: str) -> dict[str, object]:
    response = await api.http.post(
        "/products",
        json={"id": product_id, "name": "Atlas Search", "description": "Search for teams"},
        headers=await people.headers(OWNER),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_product_manager_takes_a_product_through_every_stage_over_http(
    api: ApiHarness, people: People, product_id: str
) -> None:
    registered = await register(api, people, product_id)
    assert registered["stage"] == "discovery"
    stages = ["discovery"]
    while True:
        state = (await api.services.products.view(product_id)).state
        if state.is_terminal:
            break
        for command in commands_to_meet_criteria(state) + commands_to_sign_and_pass(state):
            response = await send(api.http, people, product_id, command)
            assert response.status_code == 200, response.text
        stages.append(response.json()["stage"])

    assert stages == [stage.value for stage in LIFECYCLE_PATH]
    owner = await people.headers(OWNER)
    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
    assert detail["stage"] == "retired"
    assert detail["status"] == "retired"
    assert detail["playbook"]["name"] == "default"
    assert [visit["stage"] for visit in detail["history"]] == stages
    listed = (await api.http.get("/products?status=retired", headers=owner)).json()
    assert [p["product_id"] for p in listed["products"]] == [product_id]
    trail = (await api.http.get(f"/products/{product_id}/events?limit=500", headers=owner)).json()
    assert trail["events"][0]["type"] == "ProductRegistered"
    assert trail["events"][-1]["type"] == "StageEntered"
    assert trail["events"][-1]["data"]["stage"] == "retired"
    assert [e["stream_version"] for e in trail["events"]] == list(
        range(1, len(trail["events"]) + 1)
    )
    signatures = [e for e in trail["events"] if e["type"] == "SignOffGiven"]
    assert signatures
    assert all(e["actor"]["role"] and e["data"]["verdict"] for e in signatures)


async def test_showing_a_product_lists_every_criterion_with_its_reason(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await register(api, people, product_id)
    owner = await people.headers(OWNER)
    await api.http.post(
        f"/products/{product_id}/evidence",
        json={"requirement": "customer-interview", "title": "Call with Acme"},
        headers=owner,
    )

    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()

    reasons = {c["key"]: c["reason"] for c in detail["gate"]["criteria"]}
    assert reasons["customer-interview"] == "1 of 5 customer interviews logged"
    assert detail["gate"]["gate"] == "discovery"
    assert detail["gate"]["leads_to"] == "planning"
    assert detail["owner"] == OWNER.subject


async def test_the_trail_is_paginated(api: ApiHarness, people: People, product_id: str) -> None:
    await register(api, people, product_id)
    owner = await people.headers(OWNER)
    for n in range(4):
        await api.http.post(
            f"/products/{product_id}/evidence",
            json={"requirement": "customer-interview", "title": f"Interview {n}"},
            headers=owner,
        )

    first = (await api.http.get(f"/products/{product_id}/events?limit=2", headers=owner)).json()
    second = (
        await api.http.get(
            f"/products/{product_id}/events?limit=10&after={first['next_after']}", headers=owner
        )
    ).json()

    assert [e["stream_version"] for e in first["events"]] == [1, 2]
    assert first["next_after"] == 2
    assert [e["stream_version"] for e in second["events"]] == [3, 4, 5]
    assert second["next_after"] is None


async def test_the_portfolio_filters_by_stage_and_status(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await register(api, people, product_id)
    owner = await people.headers(OWNER)

    in_discovery = await api.http.get("/products?stage=discovery", headers=owner)
    in_growth = await api.http.get("/products?stage=growth", headers=owner)
    killed = await api.http.get("/products?status=killed", headers=owner)

    assert [p["product_id"] for p in in_discovery.json()["products"]] == [product_id]
    assert in_growth.json()["products"] == []
    assert killed.json()["products"] == []


async def test_a_gatekeeper_sees_the_pending_sign_off_in_the_inbox_until_signing(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await register(api, people, product_id)
    state = (await api.services.products.view(product_id)).state
    for command in commands_to_meet_criteria(state):
        assert (await send(api.http, people, product_id, command)).status_code == 200
    owner = await people.headers(OWNER)
    assert (
        await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)
    ).status_code == 200
    lead = await api.person("lead-grace", ["product-lead"], "Grace Hopper")

    inbox = (await api.http.get("/approvals", headers=lead)).json()["pending"]
    assert [(p["product_id"], p["role"], p["gate"]) for p in inbox] == [
        (product_id, "product-lead", "discovery")
    ]
    assert (await api.http.get("/approvals", headers=owner)).json()["pending"] == []

    signed = await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "approve"}, headers=lead
    )
    assert signed.status_code == 200, signed.text
    assert (await api.http.get("/approvals", headers=lead)).json()["pending"] == []


async def test_an_expired_clock_makes_a_token_expire(api: ApiHarness, people: People) -> None:
    headers = await people.headers(OWNER)
    assert (await api.http.get("/me", headers=headers)).status_code == 200

    api.clock.now += timedelta(days=2)
    response = await api.http.get("/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["rule"] == "auth.token_expired"


async def test_the_installed_playbooks_are_listed(api: ApiHarness, people: People) -> None:
    response = await api.http.get("/playbooks", headers=await people.headers(OWNER))

    [default] = response.json()
    assert (default["name"], default["version"]) == ("default", 1)
    assert default["fingerprint"] == api.services.playbooks["default"].fingerprint()


async def test_a_conditional_go_blocks_the_next_gate_until_the_owner_meets_the_condition(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await register(api, people, product_id)
    state = (await api.services.products.view(product_id)).state
    for command in commands_to_meet_criteria(state):
        assert (await send(api.http, people, product_id, command)).status_code == 200
    owner = await people.headers(OWNER)
    await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)
    lead = await api.person("lead-grace", ["product-lead"], "Grace Okafor")
    await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "approve"}, headers=lead
    )

    decided = await api.http.post(
        f"/products/{product_id}/gate/decision",
        json={"outcome": "conditional_go", "reason": "go", "conditions": ["Validate pricing"]},
        headers=lead,
    )
    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
    [condition] = detail["conditions"]
    blocked = [c for c in detail["gate"]["criteria"] if c["kind"] == "condition"]
    met = await api.http.post(
        f"/products/{product_id}/conditions/{condition['condition_id']}",
        json={"note": "pricing survey done"},
        headers=owner,
    )
    after = (await api.http.get(f"/products/{product_id}", headers=owner)).json()

    assert decided.status_code == 200, decided.text
    assert detail["stage"] == "planning"
    assert [(c["title"], c["passed"]) for c in blocked] == [("Validate pricing", False)]
    assert met.status_code == 200, met.text
    assert [c["passed"] for c in after["gate"]["criteria"] if c["kind"] == "condition"] == [True]
    assert after["conditions"][0]["met_by"]["subject"] == OWNER.subject
