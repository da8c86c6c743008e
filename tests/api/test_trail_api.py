"""The decision trail over HTTP: filters, cursor pages, signature manifestations, refusals of
bad filters, and time travel that answers what the workflow answered at the time."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from tests.api.conftest import ApiHarness
from tests.api.test_gate_reviews_api import QUORUM, in_review, quorum_playbook, sign


@pytest.fixture
def installed(api: ApiHarness) -> ApiHarness:
    api.services.playbooks[QUORUM] = quorum_playbook()
    return api


def at(instant: str | datetime) -> str:
    return quote(instant if isinstance(instant, str) else instant.isoformat())


async def passed_first_gate(api: ApiHarness, product_id: str) -> dict[str, dict[str, str]]:
    owner = await in_review(api, product_id)
    people = {
        "owner": owner,
        "grace": await api.person("grace", ["product-lead"], "Grace Okafor"),
        "linus": await api.person("linus", ["product-lead"], "Linus Berg"),
        "omar": await api.person("omar", ["finance"], "Omar Haddad"),
    }
    await sign(api, product_id, people["grace"], reason="interviews convincing")
    await sign(api, product_id, people["linus"])
    await sign(api, product_id, people["omar"], reason="budget fits")
    return people


async def test_sign_offs_and_decisions_carry_their_manifestation_and_the_playbook_in_force(
    installed: ApiHarness, product_id: str
) -> None:
    people = await passed_first_gate(installed, product_id)

    trail = await installed.http.get(
        f"/products/{product_id}/events?type=SignOffGiven,GateDecided", headers=people["owner"]
    )

    events = trail.json()["events"]
    assert [e["type"] for e in events] == ["SignOffGiven"] * 3 + ["GateDecided"]
    first = events[0]["manifestation"]
    assert first["printed_name"] == "Grace Okafor"
    assert first["role"] == "product-lead"
    assert first["meaning"].startswith("approval")
    assert first["reason"] == "interviews convincing"
    assert datetime.fromisoformat(first["signed_at"]) == datetime.fromisoformat(
        events[0]["data"]["occurred_at"]
    )
    assert events[0]["playbook"] == {"name": QUORUM, "version": 1}
    decision = events[-1]["manifestation"]
    assert decision["meaning"] == "gate decision (automatic): go"
    assert events[-1]["playbook"] == {"name": QUORUM, "version": 1}


async def test_the_portfolio_trail_filters_by_actor_gate_type_and_time_and_pages_by_position(
    installed: ApiHarness, product_id: str
) -> None:
    api = installed
    people = await passed_first_gate(api, product_id)
    other = f"{product_id}-b"
    owner = people["owner"]
    await api.http.post(
        "/products", json={"id": other, "name": "B", "playbook": QUORUM}, headers=owner
    )
    await api.http.post(f"/products/{other}/gate/review", json={}, headers=owner)
    grace = people["grace"]

    by_grace = (await api.http.get("/trail?actor=grace", headers=grace)).json()
    at_gate = await api.http.get("/trail?gate=discovery&type=GateReviewRequested", headers=grace)
    everything = (await api.http.get("/trail?limit=500", headers=grace)).json()["events"]
    mine = [e for e in everything if e["product_id"] in (product_id, other)]
    middle = mine[len(mine) // 2]["recorded_at"]
    later = (await api.http.get(f"/trail?since={at(middle)}&limit=500", headers=grace)).json()
    earlier = (await api.http.get(f"/trail?until={at(middle)}&limit=500", headers=grace)).json()
    only_other = (await api.http.get(f"/trail?product={other}", headers=grace)).json()

    assert [(e["product_id"], e["type"]) for e in by_grace["events"]] == [
        (product_id, "SignOffGiven")
    ]
    assert {e["product_id"] for e in at_gate.json()["events"]} >= {product_id, other}
    assert all(e["data"]["gate"] == "discovery" for e in at_gate.json()["events"])
    middle_position = mine[len(mine) // 2]["position"]
    assert all(e["recorded_at"] >= middle for e in later["events"])
    assert middle_position in [e["position"] for e in later["events"]]
    assert middle_position in [e["position"] for e in earlier["events"]]
    assert [e["type"] for e in only_other["events"]] == ["ProductRegistered", "GateReviewRequested"]

    pages: list[dict[str, Any]] = []
    cursor: int | None = 0
    while cursor is not None:
        page = (await api.http.get(f"/trail?limit=3&after={cursor}", headers=grace)).json()
        pages.extend(page["events"])
        cursor = page["next_after"]
    assert [e["position"] for e in pages] == [e["position"] for e in everything]
    assert [e["position"] for e in pages] == sorted({e["position"] for e in pages})


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("type=SignOffGiven,Bribed", "type"),
        ("gate=somewhere", "gate"),
        ("since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", "since"),
        ("since=yesterday", "since"),
        ("until=9999-12-31T23:00:00-05:00", "until"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=-1", "after"),
        ("product=Not_A_Product", "product"),
        ("actor=ada%00", "actor"),
        ("actor=%1B%5B31m", "actor"),
    ],
)
async def test_bad_filter_values_are_refused_naming_the_parameter(
    api: ApiHarness, query: str, parameter: str
) -> None:
    auditor = await api.person("audrey", ["auditor"], "Audrey Auditor")

    response = await api.http.get(f"/trail?{query}", headers=auditor)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    named = error["message"] + " ".join(f["location"] for f in error["fields"])
    assert parameter in named


async def test_the_product_trail_filters_and_pages_by_stream_version(
    installed: ApiHarness, product_id: str
) -> None:
    people = await passed_first_gate(installed, product_id)
    http, owner = installed.http, people["owner"]

    first = (await http.get(f"/products/{product_id}/events?limit=2", headers=owner)).json()
    rest = await http.get(f"/products/{product_id}/events?after=2&limit=500", headers=owner)
    omar = (await http.get(f"/products/{product_id}/events?actor=omar", headers=owner)).json()
    unknown = await http.get("/products/never-registered/events?actor=omar", headers=owner)
    beyond = await http.get(f"/products/{product_id}/events?after={2**62}", headers=owner)

    assert [e["stream_version"] for e in first["events"]] == [1, 2]
    assert first["next_after"] == 2
    assert rest.json()["events"][0]["stream_version"] == 3
    assert rest.json()["next_after"] is None
    assert [e["type"] for e in omar["events"]] == ["SignOffGiven"]
    assert omar["events"][0]["manifestation"]["printed_name"] == "Omar Haddad"
    assert unknown.status_code == 404
    assert beyond.json() == {"product_id": product_id, "events": [], "next_after": None}


async def test_a_product_as_of_any_past_instant_is_what_the_workflow_reported_then(
    installed: ApiHarness, product_id: str
) -> None:
    """After each command, record the instant of its last event and what the workflow
    answered; afterwards, the folded past must equal each of those answers."""
    api = installed
    owner = await api.person("pm-ada", ["product-manager"], "Ada Park")
    grace = await api.person("grace", ["product-lead"], "Grace Okafor")
    linus = await api.person("linus", ["product-lead"], "Linus Berg")
    omar = await api.person("omar", ["finance"], "Omar Haddad")
    signed = {"verdict": "approve", "reason": "ok"}
    steps: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/products", {"id": product_id, "name": "Atlas", "playbook": QUORUM}, owner),
        (f"/products/{product_id}/gate/review", {}, owner),
        (f"/products/{product_id}/gate/signoffs", signed, grace),
        (f"/products/{product_id}/gate/signoffs", signed, linus),
        (f"/products/{product_id}/gate/signoffs", signed, omar),
    ]
    reported: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for path, body, headers in steps:
        answer = await api.http.post(path, json=body, headers=headers)
        assert answer.is_success, answer.text
        instant = answer.json()["events"][-1]["occurred_at"]
        workflow = (await api.http.get(f"/products/{product_id}", headers=owner)).json()
        reported.append((instant, answer.json(), workflow))

    for instant, receipt, workflow in reported:
        past = await api.http.get(f"/products/{product_id}?as_of={at(instant)}", headers=owner)
        assert past.status_code == 200, past.text
        assert past.json()["version"] == receipt["version"]
        assert past.json()["stage"] == receipt["stage"]
        assert past.json()["gate"] == receipt["gate"]
        assert past.json() == workflow

    before = datetime.fromisoformat(reported[0][0]) - timedelta(microseconds=1)
    unborn = await api.http.get(f"/products/{product_id}?as_of={at(before)}", headers=owner)
    assert unborn.status_code == 404
    assert "as of" in unborn.json()["error"]["message"]

    boards = [
        (await api.http.get(f"/products?as_of={at(i)}&limit=500", headers=owner)).json()
        for i in (before, reported[1][0], reported[-1][0])
    ]
    stage_of = [
        {p["product_id"]: p["stage"] for p in board["products"]}.get(product_id) for board in boards
    ]
    assert stage_of == [None, "discovery", "planning"]
    live = (await api.http.get("/products?limit=500", headers=owner)).json()
    assert [p for p in boards[-1]["products"] if p["product_id"] == product_id] == [
        p for p in live["products"] if p["product_id"] == product_id
    ]


async def test_a_bad_as_of_instant_is_refused_naming_it(api: ApiHarness) -> None:
    owner = await api.person("pm-ada", ["product-manager"], "Ada Park")

    response = await api.http.get("/products?as_of=last-tuesday", headers=owner)
    too_late = await api.http.get("/products/atlas?as_of=9999-12-31T23:00:00-05:00", headers=owner)

    assert response.status_code == 422
    assert "as_of" in " ".join(f["location"] for f in response.json()["error"]["fields"])
    assert too_late.status_code == 422
    assert too_late.json()["error"]["message"].startswith("as_of:")


async def test_portfolio_analytics_are_read_off_the_trail_now_and_as_of_an_instant(
    installed: ApiHarness, product_id: str
) -> None:
    people = await passed_first_gate(installed, product_id)
    http, owner = installed.http, people["owner"]
    events = (await http.get(f"/products/{product_id}/events", headers=owner)).json()["events"]
    registered = events[0]["recorded_at"]

    now = (await http.get("/analytics", headers=owner)).json()
    then = (await http.get(f"/analytics?as_of={at(registered)}", headers=owner)).json()
    bad = await http.get("/analytics?as_of=soon", headers=owner)

    mine = next(p for p in now["products"] if p["product_id"] == product_id)
    assert [(s["stage"], s["left_at"] is None) for s in mine["stays"]] == [
        ("discovery", False),
        ("planning", True),
    ]
    assert now["time_in_stage"]["discovery"]["count"] >= 1
    discovery = next(g for g in now["gate_first_pass"] if g["gate"] == "discovery")
    assert discovery["first_pass"] >= 1
    roles = {r["role"]: r["latency"]["count"] for r in now["approval_latency_by_role"]}
    assert roles["product-lead"] >= 2
    assert roles["finance"] >= 1
    grace = next(a for a in now["approval_latency_by_approver"] if a["subject"] == "grace")
    assert grace["printed_name"] == "Grace Okafor"
    assert grace["latency"]["median_seconds"] >= 0
    past = next(p for p in then["products"] if p["product_id"] == product_id)
    assert [s["stage"] for s in past["stays"]] == ["discovery"]
    assert all(
        a["subject"] != "grace" or a["latency"]["count"] == 0
        for a in then["approval_latency_by_approver"]
    )
    assert bad.status_code == 422


async def test_an_event_the_domain_cannot_read_stops_time_travel_with_its_position(
    installed: ApiHarness, product_id: str, database_dsn: str
) -> None:
    api = installed
    owner = await in_review(api, product_id)
    events = (await api.http.get(f"/products/{product_id}/events", headers=owner)).json()
    position = events["events"][1]["position"]
    connection = await asyncpg.connect(database_dsn)
    try:
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await connection.execute(
            'UPDATE events SET data = \'{"round": "many"}\' WHERE position = $1', position
        )
    finally:
        await connection.close()
    later = events["events"][1]["recorded_at"]

    answers = [
        await api.http.get(path, headers=owner)
        for path in (
            f"/products/{product_id}?as_of={at(later)}",
            f"/products?as_of={at(later)}",
            "/analytics",
        )
    ]

    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["rule"] == "trail.unreadable_event"
        assert f"position {position}" in answer.json()["error"]["message"]
