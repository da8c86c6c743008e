"""Gate reviews over HTTP: quorum, segregation, delegation, the decisions of Stage-Gate, and a
product page that says who signed, who is missing, when it is due and why it is blocked."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from domain.playbook import Playbook
from domain.stages import LIFECYCLE_PATH, Stage
from tests.api.conftest import ApiHarness

QUORUM = "quorum"


def quorum_playbook() -> Playbook:
    stages: list[dict[str, Any]] = []
    for stage in LIFECYCLE_PATH:
        entry: dict[str, Any] = {"stage": stage.value, "title": stage.value.title()}
        if stage is not Stage.RETIRED:
            entry["exit_gate"] = {"title": f"{stage.value} gate", "decider_roles": ["exec-sponsor"]}
        stages.append(entry)
    stages[0]["exit_gate"].update(
        sign_offs=[
            {"role": "product-lead", "min_approvals": 2},
            {"role": "finance"},
            {"role": "legal", "optional": True},
        ],
        review={"sla": "P10D", "remind_every": "P3D", "escalate_to": "exec-sponsor"},
        auto_decision="when_criteria_hold",
    )
    return Playbook.model_validate(
        {
            "name": QUORUM,
            "version": 1,
            "title": "Quorum",
            "roles": [
                {"key": r, "title": r}
                for r in ("product-manager", "product-lead", "finance", "legal", "exec-sponsor")
            ],
            "stages": stages,
        }
    )


@pytest.fixture
def installed(api: ApiHarness) -> ApiHarness:
    api.services.playbooks[QUORUM] = quorum_playbook()
    return api


async def in_review(api: ApiHarness, product_id: str) -> dict[str, str]:
    owner = await api.person("pm-ada", ["product-manager"], "Ada Park")
    created = await api.http.post(
        "/products", json={"id": product_id, "name": "Atlas", "playbook": QUORUM}, headers=owner
    )
    assert created.status_code == 201, created.text
    review = await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)
    assert review.status_code == 200, review.text
    return owner


async def sign(
    api: ApiHarness, product_id: str, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "approve", **body},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_two_approvers_of_one_role_and_one_of_another_reach_quorum_and_the_gate_advances(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    owner = await in_review(api, product_id)
    grace = await api.person("grace", ["product-lead"], "Grace Okafor")
    linus = await api.person("linus", ["product-lead"], "Linus Berg")
    omar = await api.person("omar", ["finance"], "Omar Haddad")

    await sign(api, product_id, grace)
    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
    assert {w["role"]: (w["approvals"], w["needed"]) for w in detail["waiting_for"]} == {
        "product-lead": (1, 2),
        "finance": (0, 1),
        "legal": (0, 1),
    }
    assert detail["review"]["due_at"] is not None
    assert any("1 of 2 approvals from product-lead" in b for b in detail["blocked_by"])
    assert detail["next_review_alarm"] is not None
    assert detail["overdue"] is False

    await sign(api, product_id, linus)
    result = await sign(api, product_id, omar)

    assert result["stage"] == "planning"
    assert [e["type"] for e in result["events"]] == ["SignOffGiven", "GateDecided", "StageEntered"]
    trail = (await api.http.get(f"/products/{product_id}/events", headers=owner)).json()
    signatures = [e for e in trail["events"] if e["type"] == "SignOffGiven"]
    assert [(s["actor"]["display_name"], s["actor"]["role"]) for s in signatures] == [
        ("Grace Okafor", "product-lead"),
        ("Linus Berg", "product-lead"),
        ("Omar Haddad", "finance"),
    ]
    assert all(len(s["data"]["gate_state_hash"]) == 64 for s in signatures)
    decided = next(e for e in trail["events"] if e["type"] == "GateDecided")
    assert decided["data"]["automatic"] is True


async def test_opening_a_review_sends_one_approval_request_per_role(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    await in_review(api, product_id)
    assert api.services.outbox is not None

    requests = []
    for _ in range(200):
        requests = await api.services.outbox.list(product_id=product_id, kind="approval_requested")
        if len(requests) == 3:
            break
        await asyncio.sleep(0.05)

    assert sorted(r.recipient_roles[0] for r in requests) == ["finance", "legal", "product-lead"]
    assert all(r.delivered_at is not None for r in requests)
    assert all("due" in r.headline for r in requests)


async def test_the_requester_cannot_approve_even_holding_the_role(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    owner = await api.person("pm-lead", ["product-manager", "product-lead"], "Pat Lead")
    await api.http.post(
        "/products", json={"id": product_id, "name": "Atlas", "playbook": QUORUM}, headers=owner
    )
    await api.http.post(f"/products/{product_id}/gate/review", json={}, headers=owner)

    response = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "approve", "role": "product-lead"},
        headers=owner,
    )

    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "signoff.self_approval"


async def test_a_delegate_signs_for_someone_away_and_both_are_recorded(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    owner = await in_review(api, product_id)
    omar = await api.person("omar", ["finance"], "Omar Haddad")
    mia = await api.person("mia", ["product-marketing"], "Mia Rossi")
    granted = await api.http.post(
        "/delegations",
        json={
            "delegate": "mia",
            "role": "finance",
            "ends_at": (api.clock.now + timedelta(days=7)).isoformat(),
            "reason": "parental leave",
        },
        headers=omar,
    )
    assert granted.status_code == 201, granted.text
    inbox = (await api.http.get("/approvals", headers=mia)).json()["pending"]
    assert [
        (i["product_id"], i["role"], i["on_behalf_of"], i["on_behalf_of_name"]) for i in inbox
    ] == [(product_id, "finance", "omar", "Omar Haddad")]

    await sign(api, product_id, mia, on_behalf_of="omar")
    again = await api.http.post(
        f"/products/{product_id}/gate/signoffs", json={"verdict": "approve"}, headers=omar
    )

    trail = (await api.http.get(f"/products/{product_id}/events", headers=owner)).json()
    [signature] = [e for e in trail["events"] if e["type"] == "SignOffGiven"]
    assert signature["actor"]["subject"] == "mia"
    assert signature["data"]["on_behalf_of"]["subject"] == "omar"
    assert signature["data"]["delegation_id"]
    assert again.status_code == 409
    assert again.json()["error"]["rule"] == "signoff.duplicate_vote"


async def test_signing_for_someone_without_their_delegation_is_forbidden(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    await in_review(api, product_id)
    await api.person("omar", ["finance"], "Omar Haddad")
    mia = await api.person("mia", ["product-marketing"], "Mia Rossi")

    response = await api.http.post(
        f"/products/{product_id}/gate/signoffs",
        json={"verdict": "approve", "on_behalf_of": "omar"},
        headers=mia,
    )

    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "signoff.no_delegation"


async def test_a_sign_off_can_be_revoked_until_the_gate_is_decided(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    owner = await in_review(api, product_id)
    grace = await api.person("grace", ["product-lead"], "Grace Okafor")
    await sign(api, product_id, grace)

    revoked = await api.http.post(
        f"/products/{product_id}/gate/signoffs/revoke",
        json={"reason": "I misread the numbers"},
        headers=grace,
    )
    nothing = await api.http.post(
        f"/products/{product_id}/gate/signoffs/revoke", json={"reason": "again"}, headers=grace
    )

    assert revoked.status_code == 200, revoked.text
    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
    assert detail["review"]["sign_offs"] == []
    assert [r["signer"]["subject"] for r in detail["review"]["revoked"]] == ["grace"]
    assert nothing.status_code == 409
    assert nothing.json()["error"]["rule"] == "signoff.nothing_to_revoke"


async def test_hold_resume_recycle_and_conditional_go_over_http(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    owner = await in_review(api, product_id)
    sponsor = await api.person("kate", ["exec-sponsor"], "Kate Silva")

    async def decide(**body: Any) -> Any:
        return await api.http.post(
            f"/products/{product_id}/gate/decision", json=body, headers=sponsor
        )

    held = await decide(outcome="hold", reason="budget freeze")
    refused = await api.http.post(
        f"/products/{product_id}/evidence",
        json={"requirement": "x", "title": "y"},
        headers=owner,
    )
    detail = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
    resumed = await decide(outcome="resume", reason="budget back")
    recycled = await decide(outcome="recycle", reason="redo discovery", recycle_to="discovery")
    too_far = await decide(outcome="recycle", reason="skip ahead", recycle_to="growth")
    no_conditions = await decide(outcome="conditional_go", reason="go if")
    unsigned = await decide(outcome="conditional_go", reason="go if", conditions=["Sign the DPA"])

    assert held.status_code == 200, held.text
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["rule"] == "product.on_hold"
    assert detail["on_hold"] is True
    assert detail["blocked_by"][0] == "on hold: budget freeze"
    assert resumed.status_code == 200
    assert recycled.status_code == 200
    assert [e["type"] for e in recycled.json()["events"]] == [
        "GateReviewVoided",
        "GateDecided",
        "StageEntered",
    ]
    assert too_far.status_code == 422
    assert too_far.json()["error"]["rule"] == "decision.recycle_target"
    assert no_conditions.status_code == 422
    assert no_conditions.json()["error"]["rule"] == "decision.conditions_required"
    assert unsigned.status_code == 409
    assert unsigned.json()["error"]["rule"] == "gate.sign_offs_unmet"
