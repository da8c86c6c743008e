"""Reading the trail and the past with the CLI, and auditing through the API."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.cast import People, in_discovery_review, line_with
from tests.cli.conftest import LiveApi
from tests.store.test_audit_export import offline_problems
from tests.support.journey import gatekeeper

LEAD = gatekeeper("product-lead")


@pytest.fixture
def people(live_api: LiveApi) -> People:
    return People(live_api)


async def test_the_trail_filters_pages_and_shows_each_signature_with_its_meaning(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    lead = await people.cli(LEAD)
    (await lead("gate", "signoff", product_id, "--approve", "--reason", "convincing")).ok()

    signed = (await owner("trail", product_id, "--type", "SignOffGiven")).ok().stdout
    by_lead = (await owner("-o", "json", "trail", "--actor", LEAD.subject)).ok().json()
    at_gate = await owner("-o", "json", "trail", product_id, "--gate", "discovery", "--all")
    page = (await owner("trail", product_id, "--limit", "2")).ok().stdout
    everything = (await owner("-o", "json", "trail", product_id, "--all")).ok().json()
    later = await owner("-o", "json", "trail", product_id, "--since", "2999-01-01")
    bad_since = await owner("trail", "--since", "last week")
    bad_type = await owner("trail", "--type", "Bribed")

    assert "signed Product-Lead 1 as product-lead" in signed
    assert "meaning: approval" in line_with(signed, "meaning: approval")
    assert "reason: convincing; playbook default v" in signed
    assert [e["type"] for e in by_lead["events"]] == ["SignOffGiven"]
    gate_events = at_gate.ok().json()["events"]
    assert gate_events
    assert {e["data"]["gate"] for e in gate_events} == {"discovery"}
    second = everything["events"][1]["position"]
    assert f"more: add --after {second} (or --all)" in page
    assert everything["next_after"] is None
    assert later.ok().json()["events"] == []
    assert bad_since.exit_code == 2
    assert bad_type.exit_code == 1
    assert "type: no event type named 'Bribed'" in bad_type.reason


async def test_a_product_and_the_board_as_of_a_past_instant(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    events = (await owner("-o", "json", "trail", product_id, "--all")).ok().json()["events"]
    registered = events[0]["recorded_at"]
    before = (datetime.fromisoformat(registered) - timedelta(seconds=1)).astimezone(UTC)

    then = await owner("-o", "json", "audit", "state", product_id, "--as-of", registered)
    board = (await owner("-o", "json", "audit", "state", "--as-of", registered)).ok().json()
    shown = (await owner("audit", "state", product_id, "--as-of", registered)).ok().stdout
    unborn = await owner("audit", "state", product_id, "--as-of", before.isoformat())
    missing = await owner("audit", "state", product_id)

    assert then.ok().json()["version"] == 1
    assert then.json()["review"] is None
    assert [p["stage"] for p in board["products"] if p["product_id"] == product_id] == ["discovery"]
    assert product_id in shown
    assert unborn.exit_code == 1
    assert "not registered as of" in unborn.reason
    assert missing.exit_code == 2


async def test_an_auditor_verifies_takes_a_digest_and_exports_through_the_api(
    live_api: LiveApi, people: People, product_id: str, tmp_path: Path
) -> None:
    await in_discovery_review(people, product_id)
    admin = live_api.cli

    verified = (await admin("audit", "verify")).ok().stdout
    issued = (await admin("audit", "digest")).ok().stdout
    digest = json.loads(issued)
    saved = tmp_path / "digest.json"
    saved.write_text(issued)
    (await admin("product", "create", f"{product_id}-b", "--name", "Beacon")).ok()
    extended = (await admin("audit", "verify", "--against", str(saved))).ok().stdout
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps({**digest, "hash": "0" * 64}))
    forged = await admin("audit", "verify", "--against", str(forged_path))
    exported = (await admin("audit", "export", "--format", "csv")).ok().stdout
    product_lines = (await admin("audit", "export", "--product", product_id)).ok().stdout
    unknown = await admin("audit", "export", "--product", "no-such-product")

    rows = list(csv.DictReader(io.StringIO(exported, newline="")))
    assert verified.startswith(f"OK: {len(rows) - 1} events verify; head {len(rows) - 1}:")
    assert f"the log extends the digest at position {digest['position']}" in extended
    assert "(the digest is not signed)" in extended
    assert forged.exit_code == 1
    assert f"position {digest['position']} (digest mismatch)" in forged.reason
    assert (digest["position"], digest["hash"]) == (int(rows[-2]["position"]), rows[-2]["hash"])
    assert digest.get("signature") is None
    assert offline_problems(rows, whole_log=True) == []
    records = [json.loads(line) for line in product_lines.splitlines()]
    assert [r["stream_version"] for r in records] == list(range(1, len(records) + 1))
    assert unknown.exit_code == 1
    assert "not registered" in unknown.reason


async def test_analytics_print_time_in_stage_first_pass_rate_and_approval_latency(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    lead = await people.cli(LEAD)
    (await lead("gate", "signoff", product_id, "--approve", "--reason", "convincing")).ok()

    shown = (await owner("analytics")).ok().stdout
    body = (await owner("-o", "json", "analytics")).ok().json()
    bad = await owner("analytics", "--as-of", "someday")

    assert "Time in stage, as of" in shown
    assert "Gate first-pass rate" in shown
    assert f"{LEAD.display_name} ({LEAD.subject})" in shown
    assert "Killed per stage:" in shown
    assert any(p["product_id"] == product_id for p in body["products"])
    assert bad.exit_code == 2
