"""Delegations over HTTP: granting as yourself, listing, revoking, and every refusal's status."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from store.delegations import DelegationStore
from tests.api.conftest import ApiHarness

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
START = NOW + timedelta(days=1)
END = NOW + timedelta(days=8)


@pytest.fixture
def api_at_now(api: ApiHarness) -> ApiHarness:
    api.clock.now = NOW
    return api


@pytest.fixture
def delegations(api: ApiHarness) -> DelegationStore:
    assert api.services.delegations is not None
    return api.services.delegations


def refusal(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["status"], error["rule"]) == (status, rule)
    assert error["message"]
    return error


async def grace_and_ada(api: ApiHarness) -> tuple[dict[str, str], dict[str, str]]:
    grace = await api.person("grace", ["product-lead", "finance"], "Grace Hopper")
    ada = await api.person("ada", ["product-manager"], "Ada Lovelace")
    return grace, ada


def body(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "delegate": "ada",
        "role": "product-lead",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "reason": "on leave",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


async def test_the_caller_delegates_one_of_their_roles_as_the_principal(
    api_at_now: ApiHarness, delegations: DelegationStore
) -> None:
    api = api_at_now
    grace, _ = await grace_and_ada(api)

    response = await api.http.post("/delegations", json=body(), headers=grace)

    assert response.status_code == 201, response.text
    granted = response.json()
    assert {k: v for k, v in granted.items() if k != "delegation_id"} == {
        "principal": "grace",
        "principal_name": "Grace Hopper",
        "delegate": "ada",
        "delegate_name": "Ada Lovelace",
        "role": "product-lead",
        "starts_at": "2026-03-03T09:30:00Z",
        "ends_at": "2026-03-10T09:30:00Z",
        "reason": "on leave",
        "created_at": "2026-03-02T09:30:00Z",
        "revoked_at": None,
        "revoked_by": None,
        "state": "scheduled",
    }
    found = await delegations.active_for("ada", "grace", "product-lead", START)
    assert found is not None
    assert found.delegation_id == granted["delegation_id"]
    assert found.principal_name == "Grace Hopper"


async def test_without_a_start_the_delegation_begins_now(api_at_now: ApiHarness) -> None:
    grace, _ = await grace_and_ada(api_at_now)

    response = await api_at_now.http.post(
        "/delegations", json=body(starts_at=None, reason=None), headers=grace
    )

    assert response.status_code == 201, response.text
    assert response.json()["starts_at"] == "2026-03-02T09:30:00Z"
    assert response.json()["state"] == "active"
    assert response.json()["reason"] == ""


async def test_the_client_cannot_name_the_principal(api_at_now: ApiHarness) -> None:
    _, ada = await grace_and_ada(api_at_now)

    response = await api_at_now.http.post(
        "/delegations", json=body(principal="grace", delegate="ada"), headers=ada
    )

    error = refusal(response, 422, "request.invalid")
    assert [f["location"] for f in error["fields"]] == ["body.principal"]


async def test_a_role_the_caller_does_not_hold_is_refused_with_403(
    api_at_now: ApiHarness,
) -> None:
    _, ada = await grace_and_ada(api_at_now)

    response = await api_at_now.http.post("/delegations", json=body(delegate="grace"), headers=ada)

    error = refusal(response, 403, "delegation.role_not_held")
    assert error["message"] == (
        "Ada Lovelace does not hold role 'product-lead', so cannot delegate it"
    )


async def test_an_unknown_delegate_is_refused_with_404(api_at_now: ApiHarness) -> None:
    grace, _ = await grace_and_ada(api_at_now)

    response = await api_at_now.http.post(
        "/delegations", json=body(delegate="nobody"), headers=grace
    )

    error = refusal(response, 404, "user.not_found")
    assert error["message"] == "no user 'nobody' to delegate to"


async def test_a_disabled_delegate_is_refused_with_409(api_at_now: ApiHarness) -> None:
    grace, _ = await grace_and_ada(api_at_now)
    await api_at_now.identity.set_disabled("ada", True)

    response = await api_at_now.http.post("/delegations", json=body(), headers=grace)

    error = refusal(response, 409, "user.disabled")
    assert "'ada' (delegate) is disabled" in error["message"]


async def test_an_overlapping_delegation_is_refused_with_409_naming_the_existing_one(
    api_at_now: ApiHarness,
) -> None:
    api = api_at_now
    grace, _ = await grace_and_ada(api)
    await api.person("linus", [], "Linus Torvalds")
    first = (await api.http.post("/delegations", json=body(), headers=grace)).json()

    response = await api.http.post(
        "/delegations",
        json=body(delegate="linus", starts_at=(END - timedelta(hours=1)).isoformat()),
        headers=grace,
    )

    error = refusal(response, 409, "delegation.overlaps")
    assert first["delegation_id"] in error["message"]
    assert "'grace' already delegates role 'product-lead' to 'ada'" in error["message"]


@pytest.mark.parametrize(
    ("changes", "location", "words"),
    [
        ({"ends_at": START.isoformat()}, "body.ends_at", "must be later than starts_at"),
        ({"ends_at": (NOW - timedelta(hours=1)).isoformat()}, "body.ends_at", "later than now"),
        (
            {"starts_at": None, "ends_at": NOW.isoformat()},
            "body.ends_at",
            "must be later than now",
        ),
        ({"starts_at": (NOW - timedelta(days=1)).isoformat()}, "body.starts_at", "in the past"),
        ({"ends_at": "2026-03-10T09:30:00"}, "body.ends_at", "timezone"),
        ({"ends_at": "9999-12-31T23:00:00-05:00"}, "body.ends_at", "outside the range"),
        ({"starts_at": "next tuesday"}, "body.starts_at", "datetime"),
        ({"delegate": "grace"}, "body.delegate", "cannot delegate to themselves"),
        ({"role": "Product Lead"}, "body.role", "pattern"),
        ({"reason": "x" * 2001}, "body.reason", "2000"),
    ],
)
async def test_bad_input_is_refused_with_422_naming_the_field(
    api_at_now: ApiHarness, changes: dict[str, Any], location: str, words: str
) -> None:
    grace, _ = await grace_and_ada(api_at_now)

    response = await api_at_now.http.post("/delegations", json=body(**changes), headers=grace)

    error = refusal(response, 422, "request.invalid")
    assert [f["location"] for f in error["fields"]] == [location]
    assert words in error["fields"][0]["message"]
    assert location in error["message"]


async def test_delegations_need_a_signed_in_caller(api_at_now: ApiHarness) -> None:
    refusal(await api_at_now.http.post("/delegations", json=body()), 401, "auth.missing_token")
    refusal(await api_at_now.http.get("/delegations"), 401, "auth.missing_token")


# -- listing ------------------------------------------------------------------------------------


async def test_each_person_lists_what_they_gave_and_received(api_at_now: ApiHarness) -> None:
    api = api_at_now
    grace, ada = await grace_and_ada(api)
    gift = (await api.http.post("/delegations", json=body(), headers=grace)).json()

    mine = await api.http.get("/delegations", headers=grace)
    hers = await api.http.get("/delegations", headers=ada)

    assert mine.status_code == 200, mine.text
    assert mine.json() == {"subject": "grace", "given": [gift], "received": []}
    assert hers.json() == {"subject": "ada", "given": [], "received": [gift]}


async def test_ended_and_revoked_delegations_are_listed_only_when_asked(
    api_at_now: ApiHarness,
) -> None:
    api = api_at_now
    grace, _ = await grace_and_ada(api)
    ending = await api.http.post(
        "/delegations",
        json=body(starts_at=None, ends_at=(NOW + timedelta(hours=6)).isoformat()),
        headers=grace,
    )
    revoked = await api.http.post("/delegations", json=body(role="finance"), headers=grace)
    await api.http.post(f"/delegations/{revoked.json()['delegation_id']}/revoke", headers=grace)
    api.clock.now = NOW + timedelta(hours=6)  # the first has just ended

    current = await api.http.get("/delegations", headers=grace)
    everything = await api.http.get("/delegations?include_past=true", headers=grace)

    assert current.json()["given"] == []
    states = {d["delegation_id"]: d["state"] for d in everything.json()["given"]}
    assert states == {
        ending.json()["delegation_id"]: "ended",
        revoked.json()["delegation_id"]: "revoked",
    }


async def test_only_an_admin_may_list_someone_elses_delegations(api_at_now: ApiHarness) -> None:
    api = api_at_now
    grace, ada = await grace_and_ada(api)
    admin = await api.person("root", ["admin"], "Ann Admin")
    gift = (await api.http.post("/delegations", json=body(), headers=grace)).json()

    as_ada = await api.http.get("/delegations", params={"subject": "grace"}, headers=ada)
    as_admin = await api.http.get("/delegations", params={"subject": "grace"}, headers=admin)
    unknown = await api.http.get("/delegations", params={"subject": "nobody"}, headers=admin)

    refusal(as_ada, 403, "auth.role_required")
    assert as_admin.json() == {"subject": "grace", "given": [gift], "received": []}
    assert refusal(unknown, 404, "user.not_found")["message"] == "no user 'nobody'"


# -- revoking -----------------------------------------------------------------------------------


async def test_the_principal_revokes_and_the_delegation_stops_at_once(
    api_at_now: ApiHarness, delegations: DelegationStore
) -> None:
    api = api_at_now
    grace, _ = await grace_and_ada(api)
    gift = (await api.http.post("/delegations", json=body(starts_at=None), headers=grace)).json()
    api.clock.now = NOW + timedelta(hours=2)

    response = await api.http.post(f"/delegations/{gift['delegation_id']}/revoke", headers=grace)

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked"
    assert response.json()["revoked_at"] == "2026-03-02T11:30:00Z"
    assert response.json()["revoked_by"] == "grace"
    assert await delegations.active_for("ada", "grace", "product-lead", api.clock.now) is None


async def test_only_the_principal_or_an_admin_may_revoke(api_at_now: ApiHarness) -> None:
    api = api_at_now
    grace, ada = await grace_and_ada(api)
    admin = await api.person("root", ["admin"], "Ann Admin")
    gift = (await api.http.post("/delegations", json=body(), headers=grace)).json()
    path = f"/delegations/{gift['delegation_id']}/revoke"

    by_delegate = await api.http.post(path, headers=ada)
    by_admin = await api.http.post(path, headers=admin)

    error = refusal(by_delegate, 403, "delegation.revoke_forbidden")
    assert error["message"] == (
        f"'ada' may not revoke delegation {gift['delegation_id']}: only its principal "
        "('grace') or an admin may"
    )
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["revoked_by"] == "root"


async def test_revoking_an_unknown_delegation_is_refused_with_404(api_at_now: ApiHarness) -> None:
    grace, _ = await grace_and_ada(api_at_now)

    for delegation_id in ("abcdefabcdef", "nope", "x" * 64):
        response = await api_at_now.http.post(f"/delegations/{delegation_id}/revoke", headers=grace)
        error = refusal(response, 404, "delegation.not_found")
        assert error["message"] == f"no delegation '{delegation_id}'"


async def test_delegations_are_in_the_openapi_document(api_at_now: ApiHarness) -> None:
    paths = (await api_at_now.http.get("/openapi.json")).json()["paths"]

    assert set(paths["/delegations"]) == {"get", "post"}
    assert set(paths["/delegations/{delegation_id}/revoke"]) == {"post"}
