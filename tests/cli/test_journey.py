"""Products walk through gates with nothing but the `lifecycle` command.

An admin adds the people and issues their tokens, the product manager gathers what each gate
asks, gatekeepers sign with their own tokens and a decider says Go. A second product walks every
stage to retired: the journey cast of `tests/support/journey.py`, spelled as command lines."""

from typing import Any

from domain.stages import LIFECYCLE_PATH
from tests.cli.cast import DISCOVERY_EVIDENCE, People, add_evidence, register, run
from tests.cli.conftest import Cli, LiveApi
from tests.support.journey import commands_to_meet_criteria, commands_to_sign_and_pass

PEOPLE = {
    "pm-ada": ("Ada Lovelace", "product-manager"),
    "lead-grace": ("Grace Hopper", "product-lead"),
    "eng-linus": ("Linus Torvalds", "engineering-lead"),
    "exec-sam": ("Sam Sponsor", "exec-sponsor,finance"),
}
PLANNING_EVIDENCE = {"product-vision": 1, "roadmap": 1, "kpi-definition": 1, "mvp-scope": 1}


async def onboard(api: LiveApi) -> dict[str, Cli]:
    """Adds every person and issues each a token, using the admin's CLI; returns their CLIs."""
    clis = {}
    for subject, (name, roles) in PEOPLE.items():
        added = (await api.cli("users", "add", subject, "--name", name, "--role", roles)).ok()
        assert f"added {name} ({subject})" in added.stdout
        issued = await api.cli("-o", "json", "tokens", "create", subject, "--label", "laptop")
        body = issued.ok().json()
        assert body["subject"] == subject
        assert body["token"].startswith("lc_")
        clis[subject] = api.as_(body["token"])
    return clis


def criteria(detail: dict[str, Any]) -> dict[str, bool]:
    return {c["key"]: c["passed"] for c in detail["gate"]["criteria"]}


async def test_a_product_passes_two_gates_with_the_cli_alone(
    live_api: LiveApi, product_id: str
) -> None:
    people = await onboard(live_api)
    pm, lead, eng, sponsor = (people[s] for s in ("pm-ada", "lead-grace", "eng-linus", "exec-sam"))

    created = (
        await pm(
            "product", "create", product_id, "--name", "Atlas Search", "--description", "Search"
        )
    ).ok()
    assert f"✓ {product_id}: registered under playbook 'default'" in created.stdout
    assert "stage discovery" in created.stdout

    # Discovery: evidence, the checklist, a metric, the review, one sign-off, Go.
    await add_evidence(pm, product_id, DISCOVERY_EVIDENCE)
    ticked = (await pm("checklist", "done", product_id, "personas-drafted", "--note", "3")).ok()
    assert "ChecklistItemCompleted" in ticked.stdout
    measured = (
        await pm("metric", "record", product_id, "activation-rate", "12.5", "--source", "pilot")
    ).ok()
    assert "activation-rate = 12.5" in measured.stdout
    before_review = (await pm("-o", "json", "product", "show", product_id)).ok().json()
    assert criteria(before_review) == {
        "personas-drafted": True,
        "problem-statement": True,
        "customer-interview": True,
        "market-sizing": True,
        "competitive-analysis": True,
        "product-lead": False,
    }
    (await pm("gate", "review", product_id, "--note", "ready for review")).ok()

    inbox = (await lead("-o", "json", "approvals")).ok().json()
    assert [(p["product_id"], p["role"], p["gate"]) for p in inbox["pending"]] == [
        (product_id, "product-lead", "discovery")
    ]
    signed = (
        await lead("gate", "signoff", product_id, "--approve", "--reason", "strong evidence")
    ).ok()
    assert "signed: approve" in signed.stdout
    assert "(ready for a decision)" in signed.stdout
    decided = (await lead("gate", "decide", product_id, "go", "--reason", "validated")).ok()
    assert "moved to planning" in decided.stdout
    assert "GateDecided, StageEntered" in decided.stdout

    # Planning: three roles sign, the sponsor decides.
    await add_evidence(pm, product_id, PLANNING_EVIDENCE)
    (await pm("checklist", "done", product_id, "cross-functional-workshop")).ok()
    (await sponsor("checklist", "done", product_id, "business-case", "--note", "fits")).ok()
    (await pm("gate", "review", product_id)).ok()
    (await lead("gate", "signoff", product_id, "--verdict", "approve")).ok()
    (await eng("gate", "signoff", product_id, "--approve", "--role", "engineering-lead")).ok()
    (await sponsor("gate", "signoff", product_id, "--approve", "--role", "exec-sponsor")).ok()
    went = await sponsor("-o", "json", "gate", "decide", product_id, "go", "--reason", "MVP")
    assert went.ok().json()["stage"] == "development"

    detail = (await pm("-o", "json", "product", "show", product_id)).ok().json()
    assert detail["stage"] == "development"
    assert [v["stage"] for v in detail["history"]] == ["discovery", "planning", "development"]
    assert detail["metrics"]["activation-rate"]["value"] == 12.5

    trail = (await pm("-o", "json", "audit", "log", product_id, "--all")).ok().json()
    signatures = [
        (e["actor"]["display_name"], e["actor"]["role"], e["data"]["verdict"], e["data"]["gate"])
        for e in trail["events"]
        if e["type"] == "SignOffGiven"
    ]
    assert signatures == [
        ("Grace Hopper", "product-lead", "approve", "discovery"),
        ("Grace Hopper", "product-lead", "approve", "planning"),
        ("Linus Torvalds", "engineering-lead", "approve", "planning"),
        ("Sam Sponsor", "exec-sponsor", "approve", "planning"),
    ]
    decisions = [
        (e["actor"]["display_name"], e["data"]["outcome"], e["data"]["reason"])
        for e in trail["events"]
        if e["type"] == "GateDecided"
    ]
    assert decisions == [("Grace Hopper", "go", "validated"), ("Sam Sponsor", "go", "MVP")]


async def test_the_journey_cast_walks_a_product_to_retired_through_the_cli(
    live_api: LiveApi, product_id: str
) -> None:
    people = People(live_api)
    await register(people, product_id)
    stages = ["discovery"]
    while not (state := (await live_api.services.products.view(product_id)).state).is_terminal:
        for command in commands_to_meet_criteria(state) + commands_to_sign_and_pass(state):
            await run(people, product_id, command)
        shown = await (await people.owner())("-o", "json", "product", "show", product_id)
        stages.append(shown.ok().json()["stage"])

    assert stages == [stage.value for stage in LIFECYCLE_PATH]
    owner = await people.owner()
    retired = (await owner("product", "list", "--status", "retired")).ok()
    assert product_id in retired.stdout
    assert "1 product(s)" in retired.stdout
    final = (await owner("product", "show", product_id)).ok()
    assert "retired (retired)" in final.stdout
    assert "no gate: the product is retired" in final.stdout
    assert " → ".join(stages) in final.stdout
