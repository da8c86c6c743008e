"""The write commands' finer points: reopening an item, back-dated metrics, evidence summaries,
and a Kill decision."""

from datetime import UTC, datetime

import pytest

from tests.cli.cast import People, register
from tests.cli.conftest import LiveApi
from tests.support.journey import gatekeeper


@pytest.fixture
def people(live_api: LiveApi) -> People:
    return People(live_api)


async def test_a_ticked_item_is_reopened_with_a_reason(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()
    (await owner("checklist", "done", product_id, "personas-drafted", "--note", "v1")).ok()

    reopened = (
        await owner("checklist", "reopen", product_id, "personas-drafted", "--reason", "stale")
    ).ok()
    twice = await owner("checklist", "reopen", product_id, "personas-drafted", "--reason", "x")
    detail = (await owner("-o", "json", "product", "show", product_id)).ok().json()
    trail = (await owner("-o", "json", "audit", "log", product_id)).ok().json()

    assert f"✓ {product_id}: personas-drafted reopened (ChecklistItemReopened;" in reopened.stdout
    assert "✗ personas-drafted: not done yet (owner role: product-manager)" in reopened.stdout
    assert twice.exit_code == 1
    assert twice.reason.startswith("refused (409 checklist.not_done): ")
    personas = next(c for c in detail["gate"]["criteria"] if c["key"] == "personas-drafted")
    assert personas["passed"] is False
    assert trail["events"][-1]["data"]["reason"] == "stale"


async def test_metrics_are_recorded_now_or_back_dated(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    dated = await owner(
        *("metric", "record", product_id, "retention-30d", "27.25"),
        *("--source", "warehouse", "--observed-at", "2026-01-05T09:30:00+00:00"),
    )
    local = await owner(
        *("-o", "json", "metric", "record", product_id, "nps", "31"),
        *("--source", "survey", "--observed-at", "2026-01-06T10:00"),
    )
    future = await owner(
        *("metric", "record", product_id, "nps", "99", "--source", "x"),
        *("--observed-at", "2999-01-01T00:00:00Z"),
    )
    negative = await owner("metric", "record", product_id, "monthly-revenue", "--", "-250")
    negative_with_source = await owner(
        "metric", "record", product_id, "monthly-revenue", "--source", "ledger", "--", "-250"
    )
    metrics = (await owner("-o", "json", "product", "show", product_id)).ok().json()["metrics"]

    assert "retention-30d = 27.25" in dated.ok().stdout
    assert local.ok().json()["events"][0]["type"] == "MetricRecorded"
    assert future.exit_code == 1
    assert "metric.observed_in_future" in future.reason
    assert negative.exit_code == 2  # --source is required
    negative_with_source.ok()
    assert metrics["retention-30d"]["value"] == 27.25
    assert metrics["retention-30d"]["observed_at"].startswith("2026-01-05T09:30:00")
    naive_local = datetime(2026, 1, 6, 10, 0).astimezone()
    observed = datetime.fromisoformat(metrics["nps"]["observed_at"])
    assert observed == naive_local.astimezone(UTC)
    assert metrics["monthly-revenue"]["value"] == -250


async def test_evidence_keeps_its_title_link_and_summary(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    added = await owner(
        *("evidence", "add", product_id, "market-sizing", "--title", "TAM/SAM/SOM"),
        *("--uri", "https://docs.example.com/tam", "--summary", "EUR 2bn serviceable"),
    )
    wrong = await owner("evidence", "add", product_id, "horoscope", "--title", "Stars")
    trail = (await owner("-o", "json", "audit", "log", product_id, "--after", "1")).ok().json()

    assert "evidence added to market-sizing" in added.ok().stdout
    assert wrong.exit_code == 1
    assert wrong.reason.startswith("refused (422 evidence.unknown_requirement): ")
    data = trail["events"][0]["data"]
    assert (data["requirement"], data["title"], data["uri"], data["summary"]) == (
        "market-sizing",
        "TAM/SAM/SOM",
        "https://docs.example.com/tam",
        "EUR 2bn serviceable",
    )


async def test_a_kill_decision_ends_the_product(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    lead = await people.cli(gatekeeper("product-lead"))

    killed = (await lead("gate", "decide", product_id, "kill", "--reason", "no market")).ok()
    after = await lead("gate", "decide", product_id, "go", "--reason", "changed my mind")
    shown = (await lead("product", "show", product_id)).ok().stdout
    listed = (await lead("-o", "json", "product", "list", "--status", "killed")).ok().json()
    trail = (await lead("audit", "log", product_id)).ok().stdout

    assert "decided kill" in killed.stdout
    assert "ProductKilled" in killed.stdout
    assert "killed" in killed.stdout.splitlines()[1]
    assert after.exit_code == 1
    assert after.reason.startswith("refused (409 product.closed): ")
    assert "killed (killed)" in shown
    assert "no gate: the product is killed" in shown
    assert [p["product_id"] for p in listed["products"]] == [product_id]
    assert "KILL at gate discovery: no market" in trail
    assert "killed in discovery: no market" in trail
