"""Gate reviews people can trust, through the CLI against a live API: signing for someone away,
review verdicts, revoking, Hold and Resume, Recycle, Conditional Go and its conditions, and a
product page that says who signed, who is missing, when the review is due and why it is blocked.
"""

from datetime import datetime, timedelta

import pytest

from domain.identity import Actor
from tests.cli.cast import (
    People,
    add_evidence,
    detail,
    in_discovery_review,
    line_with,
    meet_discovery_criteria,
    register,
    utc_minute,
)
from tests.cli.conftest import Cli, LiveApi, Run

GRACE = Actor(subject="grace", display_name="Grace Hopper", roles=("product-lead",))
LINUS = Actor(subject="linus", display_name="Linus Torvalds", roles=("engineering-lead",))
SAM = Actor(subject="sam", display_name="Sam Sponsor", roles=("exec-sponsor",))
OMAR = Actor(subject="omar", display_name="Omar Haddad", roles=("finance",))
MIA = Actor(subject="mia", display_name="Mia Rossi", roles=("product-marketing",))
PLANNING_EVIDENCE = {"product-vision": 1, "roadmap": 1, "kpi-definition": 1, "mvp-scope": 1}
AWAY = timedelta(days=7)


@pytest.fixture
def people(live_api: LiveApi) -> People:
    return People(live_api)


def assert_refused(run: Run, status: int, rule: str) -> str:
    """Exit 1, nothing on stdout, one line on stderr; returns the message after the rule."""
    assert run.exit_code == 1, (run.exit_code, run.stdout, run.stderr)
    assert run.stdout == ""
    prefix = f"refused ({status} {rule}): "
    assert run.reason.startswith(prefix), run.reason
    return run.reason.removeprefix(prefix)


def section(output: str, title: str) -> list[str]:
    """The lines under a heading (a table's title or a line of its own), without trailing
    blanks, blank lines or rules, up to the next heading."""
    lines = [line.rstrip() for line in output.splitlines()]
    body = []
    for line in lines[lines.index(title) + 1 :]:
        if line and not line.startswith(" "):
            break
        if line.strip() and not line.strip().startswith("─"):
            body.append(line)
    return body


async def in_planning_review(people: People, product_id: str) -> Cli:
    """Through discovery to planning, planning's criteria met, a review requested."""
    owner = await in_discovery_review(people, product_id)
    grace = await people.cli(GRACE)
    (await grace("gate", "signoff", product_id, "--approve", "--reason", "validated")).ok()
    (await grace("gate", "decide", product_id, "go", "--reason", "worth planning")).ok()
    await add_evidence(owner, product_id, PLANNING_EVIDENCE)
    (await owner("checklist", "done", product_id, "cross-functional-workshop")).ok()
    omar = await people.cli(OMAR)
    (await omar("checklist", "done", product_id, "business-case", "--note", "fits")).ok()
    (await owner("gate", "review", product_id, "--note", "MVP scope agreed")).ok()
    return owner


# -- who signed, who is missing, when it is due, why it is blocked ------------------------------


async def test_show_names_signers_delegates_missing_roles_the_due_date_and_the_blockers(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_planning_review(people, product_id)
    linus, sam, omar, mia = [await people.cli(a) for a in (LINUS, SAM, OMAR, MIA)]
    until = (live_api.clock.now + AWAY).isoformat()
    (await sam("delegation", "grant", "mia", "--role", "exec-sponsor", "--until", until)).ok()

    inbox = (await mia("approvals")).ok().stdout
    signed = await mia(
        *("gate", "signoff", product_id, "--approve", "--on-behalf-of", "sam"),
        *("--reason", "Sam asked me to approve the MVP"),
    )
    (await linus("gate", "signoff", product_id, "--approve", "--reason", "buildable")).ok()
    reviewed = await omar("gate", "signoff", product_id, "--review", "--reason", "read the model")
    as_json = await detail(owner, product_id)
    out = (await owner("product", "show", product_id)).ok().stdout

    assert "exec-sponsor for sam" in line_with(inbox, product_id)
    assert "add --on-behalf-of SUBJECT" in inbox
    assert "signed: approve for sam" in signed.ok().stdout
    assert "signed: review" in reviewed.ok().stdout
    review = as_json["review"]
    by_signer = {s["signer"]["subject"]: s for s in review["sign_offs"]}
    assert by_signer["mia"]["on_behalf_of"]["subject"] == "sam"
    assert by_signer["mia"]["signer"]["role"] == "exec-sponsor"
    assert by_signer["omar"]["verdict"] == "review"
    # Who signed: printed name, role, verdict, reason, time; on whose behalf.
    assert "Review round 1, requested by Ada Lovelace (pm-ada)" in out
    delegated = line_with(out, "Mia Rossi (mia) for Sam Sponsor (sam)")
    assert delegated.split()[0] == "✓"
    assert " exec-sponsor " in delegated
    assert " approve " in delegated
    assert "Sam asked me to approve the MVP" in delegated
    assert utc_minute(by_signer["mia"]["signed_at"]) in delegated
    engineer = line_with(out, "Linus Torvalds (linus)")
    assert engineer.split()[0] == "✓"
    assert "engineering-lead" in engineer
    assert "buildable" in engineer
    finance = line_with(out, "Omar Haddad (omar)", "read the model")
    assert finance.split()[0] == "○"
    assert " review " in finance
    # Who is missing.
    assert [w["role"] for w in as_json["waiting_for"]] == ["product-lead", "finance"]
    waiting = section(out, "Waiting for")
    assert [line.split()[:4] for line in waiting[1:]] == [
        ["product-lead", "0", "of", "1"],
        ["finance", "0", "of", "1"],
    ]
    assert "required" in waiting[1]
    assert "optional" in waiting[2]
    # When it is due.
    due = utc_minute(review["due_at"])
    assert f"due {due} · 0 reminder(s) sent" in out
    assert "OVERDUE" not in out
    # Why the gate is blocked.
    assert as_json["blocked_by"]
    assert section(out, "Blocked by") == [f"  ✗ {line}" for line in as_json["blocked_by"]]
    assert any("product-lead" in line for line in as_json["blocked_by"])


async def test_the_trail_shows_a_delegated_signature_with_the_gate_state_it_refers_to(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    lead = await live_api.token_for("grace-2", ["product-manager"], "Grace Two")
    away = await people.cli(GRACE)
    until = (live_api.clock.now + AWAY).isoformat()
    (await away("delegation", "grant", "grace-2", "--role", "product-lead", "--until", until)).ok()

    delegate = live_api.as_(lead)
    (await delegate("gate", "signoff", product_id, "--approve", "--on-behalf-of", "grace")).ok()
    trail = (await owner("audit", "log", product_id)).ok().stdout
    events = (await owner("-o", "json", "audit", "log", product_id)).ok().json()["events"]

    [signature] = [e for e in events if e["type"] == "SignOffGiven"]
    row = line_with(trail, "SignOffGiven")
    assert "Grace Two" in row
    assert "APPROVE gate discovery, round 1 for Grace Hopper (grace)" in row
    assert f"[gate state {signature['data']['gate_state_hash'][:12]}]" in row


# -- revoking -----------------------------------------------------------------------------------


async def test_a_sign_off_is_revoked_with_a_reason_and_can_be_given_again(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    grace = await people.cli(GRACE)
    looked = await grace("gate", "signoff", product_id, "--verdict", "review", "--reason", "a look")
    assert "signed: review" in looked.ok().stdout

    revoked = (await grace("gate", "revoke", product_id, "--reason", "misread the numbers")).ok()
    nothing = await grace("gate", "revoke", product_id, "--reason", "again")
    shown = (await owner("product", "show", product_id)).ok().stdout
    inbox = (await grace("-o", "json", "approvals")).ok().json()
    as_json = (await grace("-o", "json", "gate", "revoke", product_id, "--reason", "x")).json()
    (await grace("gate", "signoff", product_id, "--approve", "--reason", "convinced")).ok()
    trail = (await owner("audit", "log", product_id)).ok().stdout
    after = await detail(owner, product_id)

    assert f"✓ {product_id}: sign-off revoked (SignOffRevoked;" in revoked.stdout
    assert assert_refused(nothing, 409, "signoff.nothing_to_revoke") == (
        "Grace Hopper has no sign-off in review round 1 of gate 'discovery'"
    )
    withdrawn = line_with(shown, "Grace Hopper (grace)")
    assert withdrawn.split()[0] == "↺"
    assert "review (revoked)" in withdrawn
    assert "no sign-offs yet in this round" in shown
    assert [i["product_id"] for i in inbox["pending"]] == [product_id]
    assert as_json["error"]["rule"] == "signoff.nothing_to_revoke"
    assert "sign-off of grace withdrawn, gate discovery, round 1: misread the numbers" in trail
    assert [s["verdict"] for s in after["review"]["sign_offs"]] == ["approve"]
    assert [s["verdict"] for s in after["review"]["revoked"]] == ["review"]
    assert after["waiting_for"] == []
    assert after["blocked_by"] == []
    assert "✓ nothing blocks the gate" in (await owner("product", "show", product_id)).ok().stdout


# -- hold, resume, recycle ----------------------------------------------------------------------


async def test_hold_refuses_work_until_resumed_and_recycle_sends_the_product_back(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_planning_review(people, product_id)
    sam = await people.cli(SAM)

    held = (await sam("gate", "decide", product_id, "hold", "--reason", "budget freeze")).ok()
    refused = await owner("evidence", "add", product_id, "roadmap", "--title", "v2")
    signing = await sam("gate", "signoff", product_id, "--approve")
    on_hold = (await owner("product", "show", product_id)).ok().stdout
    resumed = (await sam("gate", "decide", product_id, "resume", "--reason", "budget back")).ok()
    again = await sam("gate", "decide", product_id, "resume", "--reason", "twice")
    no_target = await sam("gate", "decide", product_id, "recycle", "--reason", "redo")
    too_far = await sam("gate", "decide", product_id, "recycle", "--reason", "x", "--to", "growth")
    recycled = await sam(
        "gate", "decide", product_id, "recycle", "--reason", "rethink the problem",
        "--to", "discovery",
    )  # fmt: skip
    back = await detail(owner, product_id)
    trail = (await owner("audit", "log", product_id, "--all")).ok().stdout

    assert "decided hold" in held.stdout
    assert f"lift it with: lifecycle gate decide {product_id} resume" in held.stdout
    assert "budget freeze" in assert_refused(refused, 409, "product.on_hold")
    assert_refused(signing, 409, "product.on_hold")
    assert line_with(on_hold, "ON HOLD").split() == ["hold", "ON", "HOLD:", "budget", "freeze"]
    assert section(on_hold, "Blocked by")[0] == "  ✗ on hold: budget freeze"
    assert "decided resume" in resumed.stdout
    assert_refused(again, 409, "decision.not_on_hold")
    assert "one of discovery, planning" in assert_refused(no_target, 422, "decision.recycle_target")
    assert_refused(too_far, 422, "decision.recycle_target")
    assert "decided recycle to discovery" in recycled.ok().stdout
    assert "moved to discovery" in recycled.stdout
    assert "GateReviewVoided, GateDecided, StageEntered" in recycled.stdout
    assert back["stage"] == "discovery"
    assert back["on_hold"] is False
    assert back["review"] is None
    assert "HOLD at gate planning: budget freeze" in trail
    assert "RESUME at gate planning: budget back" in trail
    assert "RECYCLE at gate planning to discovery: rethink the problem" in trail
    assert "round 1 of gate planning voided: recycled to discovery" in trail


# -- conditional go and its conditions ----------------------------------------------------------


async def test_a_conditional_go_carries_conditions_that_block_the_next_gate_until_met(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)
    grace = await people.cli(GRACE)
    (await grace("gate", "signoff", product_id, "--approve")).ok()

    without = await grace("gate", "decide", product_id, "conditional-go", "--reason", "go if")
    went = await grace(
        "gate", "decide", product_id, "conditional-go", "--reason", "promising, with caveats",
        "--condition", "Sign the data processing agreement",
        "--condition", "Hire a designer",
    )  # fmt: skip
    imposed = await detail(owner, product_id)
    shown = (await owner("product", "show", product_id)).ok().stdout
    first, second = (c["condition_id"] for c in imposed["conditions"])
    met_first = await owner("condition", "meet", product_id, first, "--note", "DPA signed")
    twice = await owner("condition", "meet", product_id, first)
    by_someone_else = await grace("condition", "meet", product_id, second)
    unknown = await owner("condition", "meet", product_id, "nope")
    met_second = await owner("-o", "json", "condition", "meet", product_id, second)
    done = await detail(owner, product_id)
    after = (await owner("product", "show", product_id)).ok().stdout
    trail = (await owner("audit", "log", product_id, "--all")).ok().stdout
    trail_json = (await owner("-o", "json", "audit", "log", product_id, "--all")).ok().json()

    assert "decision.conditions_required" in without.stderr
    assert_refused(without, 422, "decision.conditions_required")
    assert "decided conditional-go" in went.ok().stdout
    assert "moved to planning" in went.stdout
    assert f"lifecycle condition meet {product_id} CONDITION_ID" in went.stdout
    assert imposed["stage"] == "planning"
    assert [c["text"] for c in imposed["conditions"]] == [
        "Sign the data processing agreement",
        "Hire a designer",
    ]
    open_row = line_with(shown, first, "Sign the data processing agreement")
    assert open_row.split()[0] == "✗"
    assert open_row.split()[-1] == "open"
    assert "2 open, 0 met" in shown
    assert any("Hire a designer" in line for line in section(shown, "Blocked by"))
    assert f"condition {first} met" in met_first.ok().stdout
    assert "Ada Lovelace" in assert_refused(twice, 409, "condition.already_met")
    assert_refused(by_someone_else, 403, "condition.not_product_owner")
    assert_refused(unknown, 422, "condition.unknown")
    assert met_second.ok().json()["events"][0]["type"] == "ConditionMet"
    assert all(c["met_by"]["subject"] == "pm-ada" for c in done["conditions"])
    met_row = line_with(after, first, "DPA signed")
    assert met_row.split()[0] == "✓"
    assert "met by Ada Lovelace (pm-ada) on" in met_row
    assert met_row.endswith("DPA signed")
    assert "0 open, 2 met" in after
    assert not any("designer" in line for line in done["blocked_by"])
    decided = line_with(trail, "GateDecided")
    assert "CONDITIONAL GO at gate discovery: promising, with caveats; conditions: " in decided
    assert "condition met: Sign the data processing agreement" in line_with(trail, first, "DPA")
    [decision] = [e for e in trail_json["events"] if e["type"] == "GateDecided"]
    assert [c["condition_id"] for c in decision["data"]["conditions"]] == [first, second]


# -- deadlines ----------------------------------------------------------------------------------


async def test_the_inbox_shows_each_due_date_and_marks_the_overdue(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await in_discovery_review(people, product_id)
    later = f"{product_id}-b"
    await register(people, later, name="Beacon")
    await meet_discovery_criteria(people, later)
    owner = await people.owner()
    (await owner("gate", "review", later)).ok()
    first_due = datetime.fromisoformat((await detail(owner, product_id))["review"]["due_at"])
    later_due = datetime.fromisoformat((await detail(owner, later))["review"]["due_at"])
    assert first_due < later_due

    on_time = (await (await people.cli(GRACE))("approvals")).ok().stdout
    live_api.clock.now = first_due + (later_due - first_due) / 2  # the API's clock, not Temporal's
    grace = live_api.as_(await live_api.token_for("grace-2", ["product-lead"], "Grace Two"))
    between = (await grace("approvals")).ok().stdout
    as_json = (await grace("-o", "json", "approvals")).ok().json()

    assert "2 sign-off(s) wait for you" in on_time
    assert "overdue" not in on_time.lower()
    assert line_with(on_time, f" {product_id} ").endswith(utc_minute(first_due.isoformat()))
    assert "2 sign-off(s) wait for you, 1 overdue" in between
    assert line_with(between, f" {product_id} ").endswith(
        f"{utc_minute(first_due.isoformat())} OVERDUE"
    )
    assert line_with(between, f" {later} ").endswith(utc_minute(later_due.isoformat()))
    assert [(i["product_id"], i["overdue"]) for i in as_json["pending"]] == [
        (product_id, True),
        (later, False),
    ]
