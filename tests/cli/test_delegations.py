"""Delegating with the CLI against a live API: grant, list and revoke in text and json, and
refusals that exit 1 with one line naming status and rule (2 for a date that is no date)."""

from datetime import UTC, datetime

import pytest

from tests.cli.conftest import Cli, LiveApi, Run

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
UNTIL = "2026-03-10T09:30:00Z"


@pytest.fixture
def at_now(live_api: LiveApi) -> LiveApi:
    live_api.clock.now = NOW
    return live_api


async def grace_and_ada(api: LiveApi) -> tuple[Cli, Cli]:
    grace = await api.token_for("grace", ["product-lead", "finance"], "Grace Hopper")
    ada = await api.token_for("ada", ["product-manager"], "Ada Lovelace")
    return api.as_(grace), api.as_(ada)


def assert_refused(run: Run, status: int, rule: str) -> str:
    assert run.exit_code == 1, (run.exit_code, run.stdout, run.stderr)
    assert run.stdout == ""
    prefix = f"refused ({status} {rule}): "
    assert run.reason.startswith(prefix), run.reason
    return run.reason.removeprefix(prefix)


async def test_grant_list_and_revoke_in_text(at_now: LiveApi) -> None:
    grace, ada = await grace_and_ada(at_now)

    granted = (
        await grace(
            "delegation", "grant", "ada", "--role", "product-lead", "--from",
            "2026-03-03T09:30:00+00:00", "--until", UNTIL, "--reason", "parental leave",
        )
    ).ok()  # fmt: skip
    lines = granted.stdout.strip().splitlines()
    delegation_id = lines[0].split()[2]
    mine = (await grace("delegation", "list")).ok().stdout
    hers = (await ada("delegation", "list")).ok().stdout
    revoked = (await grace("delegation", "revoke", delegation_id)).ok()
    after = (await grace("delegation", "list")).ok().stdout
    everything = (await grace("delegation", "list", "--all")).ok().stdout

    assert lines == [
        f"✓ delegation {delegation_id} (scheduled): Ada Lovelace (ada) signs as product-lead for "
        "Grace Hopper (grace) from 2026-03-03 09:30 UTC until 2026-03-10 09:30 UTC",
        f"revoke with: lifecycle delegation revoke {delegation_id}",
    ]
    assert "Given by grace" in mine
    assert "Received by" not in mine
    row = next(line for line in mine.splitlines() if delegation_id in line)
    assert row.split() == [
        *(delegation_id, "Ada", "Lovelace", "(ada)", "product-lead"),
        *("2026-03-03", "09:30", "UTC", "2026-03-10", "09:30", "UTC"),
        *("scheduled", "parental", "leave"),
    ]
    assert "Received by ada" in hers
    assert "Grace Hopper (grace)" in hers
    assert revoked.stdout.strip() == (
        f"revoked delegation {delegation_id}: Ada Lovelace (ada) no longer signs as "
        "product-lead for Grace Hopper (grace)"
    )
    assert after.strip() == "no current or scheduled delegations for grace"
    assert "revoked" in next(line for line in everything.splitlines() if delegation_id in line)


async def test_grant_list_and_revoke_in_json(at_now: LiveApi) -> None:
    grace, ada = await grace_and_ada(at_now)

    granted = (
        (
            await grace(
                "-o", "json", "delegation", "grant", "ada", "--role", "finance", "--until", UNTIL
            )
        )
        .ok()
        .json()
    )
    listed = (await ada("delegation", "list", "--output", "json")).ok().json()
    revoked = (
        (await grace("delegation", "revoke", granted["delegation_id"], "-o", "json")).ok().json()
    )

    assert granted["principal"] == "grace"
    assert granted["delegate"] == "ada"
    assert granted["role"] == "finance"
    assert granted["starts_at"] == "2026-03-02T09:30:00Z"  # now, at the API's clock
    assert granted["ends_at"] == "2026-03-10T09:30:00Z"
    assert granted["state"] == "active"
    assert listed == {"subject": "ada", "given": [], "received": [granted]}
    assert revoked["state"] == "revoked"
    assert revoked["revoked_by"] == "grace"


async def test_a_time_without_a_zone_is_this_machines_local_time(at_now: LiveApi) -> None:
    grace, _ = await grace_and_ada(at_now)

    granted = (
        (
            await grace(
                "-o",
                "json",
                "delegation",
                "grant",
                "ada",
                "--role",
                "finance",
                "--until",
                "2026-03-14",
            )
        )
        .ok()
        .json()
    )

    local_midnight = datetime.fromisoformat("2026-03-14").astimezone()
    assert datetime.fromisoformat(granted["ends_at"]) == local_midnight


async def test_an_admin_lists_someone_elses_delegations(at_now: LiveApi) -> None:
    grace, ada = await grace_and_ada(at_now)
    (await grace("delegation", "grant", "ada", "--role", "finance", "--until", UNTIL)).ok()

    as_admin = (await at_now.cli("-o", "json", "delegation", "list", "--subject", "grace")).ok()
    as_ada = await ada("delegation", "list", "--subject", "grace")

    assert [d["delegate"] for d in as_admin.json()["given"]] == ["ada"]
    assert assert_refused(as_ada, 403, "auth.role_required")


# -- refusals -----------------------------------------------------------------------------------


async def test_delegating_a_role_you_do_not_hold_is_refused(at_now: LiveApi) -> None:
    _, ada = await grace_and_ada(at_now)

    refused = await ada("delegation", "grant", "grace", "--role", "finance", "--until", UNTIL)

    message = assert_refused(refused, 403, "delegation.role_not_held")
    assert message == "Ada Lovelace does not hold role 'finance', so cannot delegate it"


async def test_an_overlapping_delegation_is_refused_naming_the_existing_one(
    at_now: LiveApi,
) -> None:
    grace, _ = await grace_and_ada(at_now)
    await at_now.token_for("linus", [], "Linus Torvalds")
    first = (
        (
            await grace(
                "-o", "json", "delegation", "grant", "ada", "--role", "finance", "--until", UNTIL
            )
        )
        .ok()
        .json()
    )

    refused = await grace("delegation", "grant", "linus", "--role", "finance", "--until", UNTIL)
    as_json = await grace(
        "-o", "json", "delegation", "grant", "linus", "--role", "finance", "--until", UNTIL
    )

    message = assert_refused(refused, 409, "delegation.overlaps")
    assert first["delegation_id"] in message
    assert "'grace' already delegates role 'finance' to 'ada'" in message
    assert as_json.exit_code == 1
    assert as_json.json()["error"]["rule"] == "delegation.overlaps"


async def test_unknown_delegates_and_bad_periods_are_refused(at_now: LiveApi) -> None:
    grace, _ = await grace_and_ada(at_now)

    unknown = await grace("delegation", "grant", "nobody", "--role", "finance", "--until", UNTIL)
    past = await grace(
        "-o",
        "json",
        "delegation",
        "grant",
        "ada",
        "--role",
        "finance",
        "--until",
        "2026-03-01T00:00Z",
    )
    backwards = await grace(
        "delegation", "grant", "ada", "--role", "finance",
        "--from", "2026-03-05T00:00Z", "--until", "2026-03-04T00:00Z",
    )  # fmt: skip
    to_self = await grace("delegation", "grant", "grace", "--role", "finance", "--until", UNTIL)

    assert assert_refused(unknown, 404, "user.not_found") == "no user 'nobody' to delegate to"
    assert past.exit_code == 1
    error = past.json()["error"]
    assert (error["status"], error["rule"]) == (422, "request.invalid")
    assert error["fields"][0]["location"] == "body.ends_at"
    assert "must be later than now" in error["fields"][0]["message"]
    assert "body.ends_at" in assert_refused(backwards, 422, "request.invalid")
    assert "body.delegate" in assert_refused(to_self, 422, "request.invalid")


async def test_revoking_someone_elses_or_an_unknown_delegation_is_refused(
    at_now: LiveApi,
) -> None:
    grace, ada = await grace_and_ada(at_now)
    granted = (
        (
            await grace(
                "-o", "json", "delegation", "grant", "ada", "--role", "finance", "--until", UNTIL
            )
        )
        .ok()
        .json()
    )

    by_delegate = await ada("delegation", "revoke", granted["delegation_id"])
    unknown = await grace("delegation", "revoke", "abcdefabcdef")
    by_admin = (await at_now.cli("delegation", "revoke", granted["delegation_id"])).ok()

    assert "only its principal ('grace') or an admin may" in assert_refused(
        by_delegate, 403, "delegation.revoke_forbidden"
    )
    assert assert_refused(unknown, 404, "delegation.not_found") == "no delegation 'abcdefabcdef'"
    assert by_admin.stdout.startswith(f"revoked delegation {granted['delegation_id']}: ")


async def test_a_date_that_is_no_date_is_a_usage_error(at_now: LiveApi) -> None:
    grace, _ = await grace_and_ada(at_now)

    bad_until = await grace("delegation", "grant", "ada", "--role", "finance", "--until", "soon")
    bad_from = await grace(
        "delegation", "grant", "ada", "--role", "finance", "--until", UNTIL, "--from", "monday"
    )
    missing = await grace("delegation", "grant", "ada", "--role", "finance")

    assert bad_until.exit_code == 2
    assert "--until" in bad_until.stderr
    assert "'soon' is not an ISO 8601 date" in bad_until.stderr
    assert bad_from.exit_code == 2
    assert "--from" in bad_from.stderr
    assert missing.exit_code == 2
    assert "--until" in missing.stderr
    assert (await grace("-o", "json", "delegation", "list")).ok().json()["given"] == []


async def test_help_lists_the_delegation_commands(live_api: LiveApi) -> None:
    shown = (await live_api.cli("--help")).ok().stdout
    listed = (await live_api.cli("delegation", "--help")).ok().stdout

    assert " delegation " in shown
    for subcommand in ("grant", "list", "revoke"):
        assert f" {subcommand} " in listed, subcommand


async def test_the_api_being_away_exits_3(live_api: LiveApi) -> None:
    away = Cli("http://127.0.0.1:9", live_api.admin_token)

    run = await away("delegation", "list")

    assert run.exit_code == 3
    assert "cannot reach the lifecycle API" in run.reason
