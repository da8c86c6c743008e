"""Auditors verify the hash chain, take digests and export the log over HTTP."""

import csv
import io
import json

import asyncpg

from tests.api.conftest import ApiHarness
from tests.api.http_journey import People
from tests.support.journey import OWNER


async def test_an_auditor_verifies_the_chain_and_checks_it_against_an_earlier_digest(
    api: ApiHarness, product_id: str
) -> None:
    people = People(api)
    owner = await people.headers(OWNER)
    await api.http.post("/products", json={"id": product_id, "name": "Atlas"}, headers=owner)
    auditor = await api.person("audrey", ["auditor"], "Audrey Auditor")
    digest = (await api.http.get("/audit/digest", headers=auditor)).json()
    await api.http.post(
        f"/products/{product_id}/evidence",
        json={"requirement": "roadmap", "title": "ignored: not in this gate"},
        headers=owner,
    )
    await api.http.post(
        f"/products/{product_id}/evidence",
        json={"requirement": "customer-interview", "title": "Call with Acme"},
        headers=owner,
    )

    verified = await api.http.get("/audit/verify", headers=auditor)
    against = await api.http.get(
        f"/audit/verify?against_position={digest['position']}&against_hash={digest['hash']}",
        headers=auditor,
    )
    forged = await api.http.get(
        f"/audit/verify?against_position={digest['position']}&against_hash={'0' * 64}",
        headers=auditor,
    )

    assert digest["position"] == 1
    assert verified.json()["ok"] is True
    assert verified.json()["events_checked"] == 2
    assert against.json()["ok"] is True
    assert forged.json()["ok"] is False
    assert forged.json()["first_bad_position"] == digest["position"]


async def test_verification_needs_the_auditor_or_admin_role(api: ApiHarness) -> None:
    outsider = await api.person("pm-x", ["product-manager"])

    response = await api.http.get("/audit/verify", headers=outsider)
    half = await api.http.get(
        "/audit/verify?against_position=3", headers=await api.person("aud", ["auditor"])
    )

    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "auth.role_required"
    assert half.status_code == 422


async def test_no_digest_is_issued_for_a_log_that_does_not_verify(
    api: ApiHarness, product_id: str, database_dsn: str
) -> None:
    owner = await People(api).headers(OWNER)
    await api.http.post("/products", json={"id": product_id, "name": "Atlas"}, headers=owner)
    auditor = await api.person("audrey", ["auditor"], "Audrey Auditor")
    connection = await asyncpg.connect(database_dsn)
    try:
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await connection.execute("UPDATE events SET type = 'ProductForged' WHERE position = 1")
    finally:
        await connection.close()

    response = await api.http.get("/audit/digest", headers=auditor)

    assert response.status_code == 409
    assert response.json()["error"]["rule"] == "audit.chain_broken"
    assert "position 1" in response.json()["error"]["message"]


async def test_an_auditor_exports_the_log_with_its_chain_data_as_json_lines_or_csv(
    api: ApiHarness, product_id: str
) -> None:
    owner = await People(api).headers(OWNER)
    await api.http.post("/products", json={"id": product_id, "name": "Atlas"}, headers=owner)
    await api.http.post(
        f"/products/{product_id}/evidence",
        json={"requirement": "customer-interview", "title": 'Call with Acme, "big"'},
        headers=owner,
    )
    auditor = await api.person("audrey", ["auditor"], "Audrey Auditor")

    lines = await api.http.get(f"/audit/export?product={product_id}", headers=auditor)
    table = await api.http.get("/audit/export?format=csv", headers=auditor)
    head = (await api.http.get("/audit/digest", headers=auditor)).json()

    records = [json.loads(line) for line in lines.text.splitlines()]
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert [(r["stream_version"], r["type"]) for r in records] == [
        (1, "ProductRegistered"),
        (2, "EvidenceSubmitted"),
    ]
    assert set(records[0]) >= {"prev_hash", "hash", "content_digest", "recorded_at_micros"}
    rows = list(csv.DictReader(io.StringIO(table.text, newline="")))
    assert table.headers["content-type"].startswith("text/csv")
    assert rows[-1]["position"] == str(head["position"])
    assert rows[-1]["hash"] == head["hash"]
    assert json.loads(rows[-1]["data"])["title"] == 'Call with Acme, "big"'


async def test_an_export_is_refused_without_the_role_for_an_unknown_product_or_format(
    api: ApiHarness,
) -> None:
    auditor = await api.person("audrey", ["auditor"], "Audrey Auditor")
    outsider = await api.person("pm-x", ["product-manager"])

    forbidden = await api.http.get("/audit/export", headers=outsider)
    unknown = await api.http.get("/audit/export?product=no-such-product", headers=auditor)
    bad_format = await api.http.get("/audit/export?format=xml", headers=auditor)

    assert forbidden.status_code == 403
    assert unknown.status_code == 404
    assert bad_format.status_code == 422
    assert "format" in bad_format.json()["error"]["fields"][0]["location"]
