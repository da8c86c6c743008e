"""Every refusal a client can meet: its status, its rule and a message naming what was refused."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.identity import Actor
from tests.api.conftest import ApiHarness
from tests.api.http_journey import People, send
from tests.support.journey import OWNER, commands_to_meet_criteria


@pytest.fixture
def people(api: ApiHarness) -> People:
    return People(api)


def refusal(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["rule"] == rule
    assert error["status"] == status
    assert error["message"]
    return error


async def registered(api: ApiHarness, people: People, product_id: str) -> dict[str, str]:
    owner = await people.headers(OWNER)
    response = await api.http.post(
        "/products", json={"id": product_id, "name": "Atlas"}, headers=owner
    )
    assert response.status_code == 201, response.text
    return owner


async def in_review(api: ApiHarness, people: People, product_id: str) -> dict[str, str]:
    owner = await registered(api, people, product_id)
    state = (await api.services.products.view(product_id)).state
    for command in commands_to_meet_criteria(state):
        assert (await send(api.http, people, product_id, command)).status_code == 200
    review = await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)
    assert review.status_code == 200, review.text
    return owner


async def test_a_request_without_a_token_is_refused_with_401(api: ApiHarness) -> None:
    response = await api.http.get("/products")

    refusal(response, 401, "auth.missing_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_token_is_refused_with_401(api: ApiHarness) -> None:
    well_formed = "lc_" + "A" * 12 + "_" + "b" * 43

    unknown = await api.http.get("/products", headers={"Authorization": f"Bearer {well_formed}"})
    garbled = await api.http.get("/products", headers={"Authorization": "Bearer lc_nope"})

    refusal(unknown, 401, "auth.token_unknown")
    refusal(garbled, 401, "auth.token_malformed")


async def test_an_expired_token_is_refused_with_401(api: ApiHarness) -> None:
    await api.identity.add_user("late", "Late Larry", ["product-manager"])
    issued = await api.identity.create_token(
        "late", label="short", expires_at=api.clock.now + timedelta(minutes=5), now=api.clock.now
    )
    api.clock.now += timedelta(minutes=6)

    response = await api.http.get("/me", headers={"Authorization": f"Bearer {issued.token}"})

    error = refusal(response, 401, "auth.token_expired")
    assert issued.token not in error["message"]


async def test_a_revoked_token_is_refused_with_401(api: ApiHarness) -> None:
    await api.identity.add_user("gone", "Gone Gina", [])
    issued = await api.identity.create_token(
        "gone", label="t", expires_at=api.clock.now + timedelta(days=1), now=api.clock.now
    )
    await api.identity.revoke_token(issued.token_id, now=api.clock.now)

    response = await api.http.get("/me", headers={"Authorization": f"Bearer {issued.token}"})

    refusal(response, 401, "auth.token_revoked")


async def test_registering_needs_the_product_manager_role(api: ApiHarness, product_id: str) -> None:
    outsider = await api.person("visitor", ["finance"])

    response = await api.http.post(
        "/products", json={"id": product_id, "name": "Atlas"}, headers=outsider
    )

    error = refusal(response, 403, "auth.role_required")
    assert "product-manager" in error["message"]


async def test_an_unknown_playbook_is_refused_with_its_name(
    api: ApiHarness, people: People, product_id: str
) -> None:
    response = await api.http.post(
        "/products",
        json={"id": product_id, "name": "Atlas", "playbook": "moonshot"},
        headers=await people.headers(OWNER),
    )

    error = refusal(response, 422, "playbook.unknown")
    assert "moonshot" in error["message"]


async def test_registering_an_existing_product_is_a_conflict(
    api: ApiHarness, people: People, product_id: str
) -> None:
    owner = await registered(api, people, product_id)

    response = await api.http.post(
        "/products", json={"id": product_id, "name": "Again"}, headers=owner
    )

    refusal(response, 409, "product.already_registered")


async def test_a_command_for_an_unknown_product_is_404(api: ApiHarness, people: People) -> None:
    owner = await people.headers(OWNER)

    evidence = await api.http.post(
        "/products/no-such-product/evidence",
        json={"requirement": "roadmap", "title": "Roadmap"},
        headers=owner,
    )
    shown = await api.http.get("/products/no-such-product", headers=owner)
    trail = await api.http.get("/products/no-such-product/events", headers=owner)

    assert "no-such-product" in refusal(evidence, 404, "product.not_registered")["message"]
    refusal(shown, 404, "product.not_registered")
    refusal(trail, 404, "product.not_registered")


async def test_go_without_the_criteria_is_a_conflict_listing_what_is_missing(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await registered(api, people, product_id)
    lead = await api.person("lead-grace", ["product-lead"])

    response = await api.http.post(
        f"/products/{product_id}/gate/decision",
        json={"outcome": "go", "reason": "ship it"},
        headers=lead,
    )

    error = refusal(response, 409, "gate.criteria_unmet")
    assert "0 of 5 customer interviews logged" in error["message"]


async def test_signing_in_a_role_you_do_not_hold_is_forbidden(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await in_review(api, people, product_id)
    marketer = await api.person("mark", ["product-marketing"])

    explicit = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "approve", "role": "product-lead"},
        headers=marketer,
    )
    implicit = await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "approve"}, headers=marketer
    )

    refusal(explicit, 403, "signoff.role_not_held")
    assert "product-lead" in refusal(implicit, 403, "signoff.role_not_held")["message"]


async def test_the_requester_may_not_approve_their_own_review(
    api: ApiHarness, people: People, product_id: str
) -> None:
    lead_owner = Actor(
        subject="pm-lead", display_name="Pat Lead", roles=("product-manager", "product-lead")
    )
    owner = await people.headers(lead_owner)
    created = await api.http.post(
        "/products", json={"id": product_id, "name": "Atlas"}, headers=owner
    )
    assert created.status_code == 201
    state = (await api.services.products.view(product_id)).state
    for command in commands_to_meet_criteria(state, owner=lead_owner):
        assert (await send(api.http, people, product_id, command)).status_code == 200
    review = await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)
    assert review.status_code == 200

    response = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "approve", "role": "product-lead"},
        headers=owner,
    )

    refusal(response, 403, "signoff.self_approval")


async def test_a_second_vote_by_the_same_person_is_a_conflict(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await in_review(api, people, product_id)
    lead = await api.person("lead-grace", ["product-lead"])
    first = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "review", "reason": "read it; will decide after the demo"},
        headers=lead,
    )
    assert first.status_code == 200, first.text

    again = await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "approve"}, headers=lead
    )

    refusal(again, 409, "signoff.duplicate_vote")


async def test_a_rejection_without_a_reason_is_invalid(
    api: ApiHarness, people: People, product_id: str
) -> None:
    await in_review(api, people, product_id)
    lead = await api.person("lead-grace", ["product-lead"])

    response = await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "reject"}, headers=lead
    )

    refusal(response, 422, "signoff.reason_required")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requirement": "roadmap"}, "body.title"),
        ({"requirement": "roadmap", "title": "x", "colour": "red"}, "body.colour"),
        ({"requirement": "Not A Key!", "title": "x"}, "body.requirement"),
        ({"requirement": "roadmap", "title": "x" * 201}, "body.title"),
        ({"requirement": "roadmap", "title": "x", "summary": "y" * 2001}, "body.summary"),
    ],
)
async def test_malformed_bodies_are_refused_naming_the_field(
    api: ApiHarness, people: People, product_id: str, body: dict[str, str], field: str
) -> None:
    owner = await registered(api, people, product_id)

    response = await api.http.post(f"/products/{product_id}/evidence", json=body, headers=owner)

    error = refusal(response, 422, "request.invalid")
    assert field in [f["location"] for f in error["fields"]]


async def test_bad_json_is_refused_with_422(
    api: ApiHarness, people: People, product_id: str
) -> None:
    owner = await registered(api, people, product_id)

    response = await api.http.post(
        f"/products/{product_id}/evidence",
        content=b'{"requirement": "roadmap", "title": ',
        headers={**owner, "Content-Type": "application/json"},
    )

    refusal(response, 422, "request.invalid")


async def test_a_malformed_product_id_in_the_path_is_refused(
    api: ApiHarness, people: People
) -> None:
    response = await api.http.get("/products/NOT_VALID!", headers=await people.headers(OWNER))

    refusal(response, 422, "request.invalid")


async def test_a_non_finite_metric_value_is_refused(
    api: ApiHarness, people: People, product_id: str
) -> None:
    owner = await registered(api, people, product_id)

    response = await api.http.post(
        f"/products/{product_id}/metrics",
        content=b'{"metric": "nps", "value": NaN, "source": "survey"}',
        headers={**owner, "Content-Type": "application/json"},
    )

    assert response.status_code == 422


async def test_admin_endpoints_need_the_admin_role(api: ApiHarness, people: People) -> None:
    owner = await people.headers(OWNER)

    listing = await api.http.get("/users", headers=owner)
    adding = await api.http.post(
        "/users", json={"subject": "eve", "display_name": "Eve"}, headers=owner
    )
    issuing = await api.http.post("/tokens", json={"subject": "someone-else"}, headers=owner)

    for response in (listing, adding, issuing):
        assert "admin" in refusal(response, 403, "auth.role_required")["message"]


async def test_an_unknown_route_answers_in_the_error_model(api: ApiHarness) -> None:
    response = await api.http.get("/nowhere")

    refusal(response, 404, "route.not_found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", {"subject": "eve", "display_name": "\U00088f88 private"}),
        ("POST", "/users", {"subject": "e\u0000ve", "display_name": "Eve"}),
        ("POST", "/tokens", {"subject": "4\u00ddF.\u0000\u001c"}),
    ],
)
async def test_names_the_identity_store_cannot_hold_are_refused_as_invalid(
    api: ApiHarness, method: str, path: str, body: dict[str, str] | None
) -> None:
    admin = await api.person("boss", ["admin"])

    response = await api.http.request(method, path, json=body, headers=admin)

    refusal(response, 422, "request.invalid")


async def test_unpaired_surrogates_in_text_are_refused(
    api: ApiHarness, people: People, product_id: str
) -> None:
    owner = await registered(api, people, product_id)

    response = await api.http.post(
        f"/products/{product_id}/evidence",
        content=b'{"requirement": "roadmap", "title": "bad \\udaea text"}',
        headers={**owner, "Content-Type": "application/json"},
    )

    refusal(response, 422, "request.invalid")


async def test_a_token_for_a_disabled_user_is_refused_as_a_conflict(api: ApiHarness) -> None:
    admin = await api.person("boss", ["admin"])
    await api.identity.add_user("away", "Away Alice", ["finance"])
    await api.identity.set_disabled("away", True)

    response = await api.http.post("/tokens", json={"subject": "away"}, headers=admin)

    assert "away" in refusal(response, 409, "user.disabled")["message"]


async def test_a_person_sees_their_own_tokens_and_user_but_not_others(api: ApiHarness) -> None:
    mine = await api.person("team/alice", ["finance"])
    await api.person("bob", ["finance"])

    tokens = await api.http.get("/tokens", headers=mine)
    me = await api.http.get("/users/team/alice", headers=mine)
    other = await api.http.get("/users/bob", headers=mine)

    assert [t["subject"] for t in tokens.json()] == ["team/alice"]
    assert me.json()["subject"] == "team/alice"
    refusal(other, 403, "auth.role_required")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Atlas\u0000"}, "name"),
        ({"name": "Atlas", "description": "bell \u0007"}, "description"),
        ({"name": "Two\nlines"}, "name"),
    ],
)
async def test_control_characters_in_a_name_or_text_are_refused_naming_the_field(
    api: ApiHarness, people: People, product_id: str, body: dict[str, Any], field: str
) -> None:
    response = await api.http.post(
        "/products", json={"id": product_id, **body}, headers=await people.headers(OWNER)
    )

    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert any(field in f["location"] and "control characters" in f["message"] for f in fields)


async def test_a_description_may_break_lines(
    api: ApiHarness, people: People, product_id: str
) -> None:
    response = await api.http.post(
        "/products",
        json={"id": product_id, "name": "Atlas", "description": "Search.\n\tFor everyone."},
        headers=await people.headers(OWNER),
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("experiments", {"hypothesis": "faster \u0019", "variants": ["a"]}, "hypothesis"),
        ("experiments", {"hypothesis": "faster", "variants": ["a\u0002"]}, "variants"),
        ("sunset", {"reason": "y", "communication_plan": "mail \u001b[31m"}, "communication_plan"),
    ],
)
async def test_control_characters_in_launch_growth_and_sunset_text_are_refused(
    api: ApiHarness, people: People, product_id: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = await api.http.post(
        f"/products/{product_id}/{path}", json=body, headers=await people.headers(OWNER)
    )

    assert response.status_code == 422, response.text
    assert field in response.text
    assert "control characters" in response.text
