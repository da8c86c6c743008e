"""Reading with the CLI: a product and its gate, the portfolio, the decision trail, the inbox,
who I am. Text output is for people (tables, ✓/✗); JSON output is the API's body, unchanged."""

import httpx
import pytest

from tests.cli.cast import People, meet_discovery_criteria, register
from tests.cli.conftest import LiveApi
from tests.support.journey import gatekeeper

LEAD = gatekeeper("product-lead")


@pytest.fixture
def people(live_api: LiveApi) -> People:
    return People(live_api)


def row_of(output: str, key: str) -> str:
    """The one table row that mentions `key` as a whole word."""
    rows = [line for line in output.splitlines() if f" {key} " in f" {line} "]
    assert len(rows) == 1, f"{key!r} in {len(rows)} rows of:\n{output}"
    return rows[0]


async def test_show_prints_the_gate_as_a_table_with_a_mark_and_reason_per_criterion(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()
    (await owner("evidence", "add", product_id, "customer-interview", "--title", "Acme")).ok()
    (await owner("checklist", "done", product_id, "personas-drafted")).ok()

    shown = (await owner("product", "show", product_id)).ok()

    out, blocked = shown.stdout.split("\nBlocked by\n")
    assert out.splitlines()[0].split() == ["Atlas", "Search", product_id]
    assert "discovery (active) since" in out
    assert "Ada Lovelace (pm-ada)" in out
    assert "Gate discovery → planning: Opportunity validated" in out
    personas = row_of(out, "personas-drafted")
    assert personas.split()[:3] == ["✓", "checklist", "personas-drafted"]
    assert "done by Ada Lovelace on" in personas
    interviews = row_of(out, "customer-interview")
    assert interviews.split()[:3] == ["✗", "evidence", "customer-interview"]
    assert "1 of 5 customer interviews logged" in interviews
    lead = row_of(out, "product-lead")
    assert lead.split()[:2] == ["✗", "sign_off"]
    assert "no gate review requested yet; needs 1 approval(s) from product-lead" in lead
    assert "gate discovery → planning: 1 of 6 met" in out
    assert blocked.splitlines() == [
        "  ✗ problem statements: 0 of 1 problem statements logged",
        "  ✗ customer interviews: 1 of 5 customer interviews logged",
        "  ✗ market sizing analyses: 0 of 1 market sizing analyses logged",
        "  ✗ competitive analyses: 0 of 1 competitive analyses logged",
        "  ✗ sign-off by product-lead: no gate review requested yet; needs 1 approval(s) from "
        "product-lead",
    ]
    assert shown.stderr == ""


async def test_show_lists_the_review_sign_offs_and_metrics(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    (await owner("metric", "record", product_id, "nps", "42", "--source", "survey")).ok()
    (await owner("gate", "review", product_id, "--note", "please look")).ok()
    lead = await people.cli(LEAD)
    (await lead("gate", "signoff", product_id, "--reject", "--reason", "too few users")).ok()

    out = (await owner("product", "show", product_id)).ok().stdout

    assert "Review round 1, requested by Ada Lovelace (pm-ada)" in out
    signature = row_of(out, "reject")
    assert signature.split()[0] == "✗"
    assert "Product-Lead 1 (product-lead-1)" in signature
    assert "too few users" in signature
    assert "rejected in round 1 by Product-Lead 1 (product-lead): too few users" in out
    reading = row_of(out, "nps")
    assert "42 points" in reading
    assert "survey" in reading


async def test_show_json_is_the_apis_body(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    shown = (await owner("product", "show", product_id, "--output", "json")).ok()

    async with httpx.AsyncClient(base_url=live_api.url) as http:
        direct = await http.get(
            f"/products/{product_id}", headers={"Authorization": f"Bearer {owner.token}"}
        )
    assert shown.json() == direct.json()
    assert shown.json()["gate"]["gate"] == "discovery"
    assert shown.stderr == ""


async def test_output_is_chosen_globally_per_command_or_by_environment(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    global_json = (await owner("-o", "json", "product", "show", product_id)).ok()
    command_json = (await owner("product", "show", product_id, "-o", "json")).ok()
    env_json = (await owner("product", "show", product_id, env={"LIFECYCLE_OUTPUT": "json"})).ok()
    command_wins = await owner("--output", "json", "product", "show", product_id, "-o", "text")

    assert global_json.json()["product_id"] == product_id
    assert command_json.json() == global_json.json()
    assert env_json.json() == global_json.json()
    assert "Gate discovery → planning" in command_wins.ok().stdout


async def test_list_filters_the_portfolio_in_text_and_json(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    other = f"{product_id}-b"
    (await live_api.cli("product", "create", other, "--name", "Beacon", "--owner", "pm-ada")).ok()
    owner = await people.owner()

    listed = (await owner("product", "list", "--stage", "discovery")).ok()
    as_json = (await owner("-o", "json", "product", "list", "--owner", "pm-ada")).ok().json()
    killed = (await owner("product", "list", "--status", "killed")).ok()
    killed_json = (await owner("-o", "json", "product", "list", "--status", "killed")).ok()
    first_page = (await owner("product", "list", "--limit", "1")).ok().stdout

    atlas = row_of(listed.stdout, product_id)
    assert atlas.split()[:5] == [product_id, "Atlas", "Search", "discovery", "active"]
    assert "Ada Lovelace (pm-ada)" in atlas
    assert "default v1" in atlas
    assert "Beacon" in row_of(listed.stdout, other)
    assert "2 product(s)" in listed.stdout
    assert sorted(p["product_id"] for p in as_json["products"]) == [product_id, other]
    assert {p["owner_name"] for p in as_json["products"]} == {"Ada Lovelace"}
    assert killed.stdout.strip() == "no products match"
    assert killed_json.json() == {"products": []}
    assert "1 product(s)" in first_page
    assert "more may follow: lifecycle product list --offset 1" in first_page


async def test_list_refuses_an_unknown_stage_before_asking_the_api(live_api: LiveApi) -> None:
    wrong = await live_api.cli("product", "list", "--stage", "someday")

    assert wrong.exit_code == 2
    assert "someday" in wrong.stderr
    assert wrong.stdout == ""


async def test_the_audit_log_names_time_actor_role_type_and_data(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    (await owner("gate", "review", product_id)).ok()
    lead = await people.cli(LEAD)
    (await lead("gate", "signoff", product_id, "--approve", "--reason", "convincing")).ok()
    (await lead("gate", "decide", product_id, "go", "--reason", "worth planning")).ok()

    out = (await owner("audit", "log", product_id, "--all")).ok().stdout

    assert f"Decision trail of {product_id}" in out
    registered = row_of(out, "ProductRegistered")
    assert registered.split()[0] == "1"
    assert "UTC" in registered
    assert "'Atlas Search' owned by Ada Lovelace (pm-ada), playbook default v1" in registered
    signed = row_of(out, "SignOffGiven")
    assert "Product-Lead 1" in signed
    assert " product-lead " in signed
    assert "APPROVE gate discovery, round 1: convincing" in signed
    decided = row_of(out, "GateDecided")
    assert "GO at gate discovery: worth planning" in decided
    assert "discovery → planning" in row_of(out, "StageEntered")
    assert "customer-interview: customer-interview #5 <https://docs.example.com/" in out
    assert "more:" not in out


async def test_the_audit_log_pages_with_after_and_limit_or_fetches_all(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    await meet_discovery_criteria(people, product_id)  # 10 events in all
    owner = await people.owner()

    first = (await owner("-o", "json", "audit", "log", product_id, "--limit", "4")).ok().json()
    second = await owner("-o", "json", "audit", "log", product_id, "--after", "4", "--limit", "4")
    everything = (await owner("-o", "json", "audit", "log", product_id, "--all")).ok().json()
    paged_text = (await owner("audit", "log", product_id, "--limit", "4")).ok().stdout

    assert [e["stream_version"] for e in first["events"]] == [1, 2, 3, 4]
    assert first["next_after"] == 4
    assert [e["stream_version"] for e in second.ok().json()["events"]] == [5, 6, 7, 8]
    assert [e["stream_version"] for e in everything["events"]] == list(range(1, 11))
    assert everything["next_after"] is None
    assert f"more: lifecycle audit log {product_id} --after 4 (or --all)" in paged_text


async def test_all_and_limit_together_are_a_usage_error(live_api: LiveApi) -> None:
    both = await live_api.cli("audit", "log", "anything", "--all", "--limit", "5")

    assert both.exit_code == 2
    assert "--all fetches every page; leave out --limit" in both.stderr


async def test_approvals_show_what_waits_for_me(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    lead = await people.cli(LEAD)
    assert (await lead("approvals")).ok().stdout.strip() == "nothing waits for your sign-off"
    (await owner("gate", "review", product_id)).ok()

    waiting = (await lead("approvals")).ok().stdout
    as_json = (await lead("-o", "json", "approvals")).ok().json()
    owners_inbox = (await owner("-o", "json", "approvals")).ok().json()

    assert "1 sign-off(s) wait for you" in waiting
    row = row_of(waiting, product_id)
    assert "discovery: Opportunity validated" in row
    assert "product-lead" in row
    assert "0 of 1" in row
    assert "Ada Lovelace (pm-ada)" in row
    assert [(p["product_id"], p["role"], p["needed"]) for p in as_json["pending"]] == [
        (product_id, "product-lead", 1)
    ]
    assert owners_inbox == {"pending": []}


async def test_whoami_names_the_person_behind_the_token(live_api: LiveApi) -> None:
    text = (await live_api.cli("whoami")).ok().stdout
    body = (await live_api.cli("whoami", "-o", "json")).ok().json()

    assert "Ann Admin (admin-ann) · roles: admin" in text
    assert f"at {live_api.url}" in text
    assert body == {
        "subject": "admin-ann",
        "display_name": "Ann Admin",
        "roles": ["admin"],
        "disabled": False,
    }


async def test_user_text_is_printed_as_typed_not_as_markup(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id, name="[bold red]Loud[/] product")
    owner = await people.owner()

    shown = (await owner("product", "show", product_id)).ok()

    assert shown.stdout.startswith(f"[bold red]Loud[/] product  {product_id}")
