"""Administering people and tokens with the CLI, signed in as an admin created in the store."""

from datetime import timedelta

from tests.cli.conftest import LiveApi


async def test_an_admin_adds_lists_changes_disables_and_enables_a_user(live_api: LiveApi) -> None:
    admin = live_api.cli
    added = (
        await admin("users", "add", "grace", "--name", "Grace Hopper", "--role", "product-lead")
    ).ok()
    token = (await admin("-o", "json", "tokens", "create", "grace")).ok().json()["token"]
    grace = live_api.as_(token)

    changed = (await admin("users", "set-roles", "grace", "--role", "exec-sponsor,finance")).ok()
    listed = (await admin("users", "list")).ok()
    listed_json = (await admin("-o", "json", "users", "list")).ok().json()
    disabled = (await admin("users", "disable", "grace")).ok()
    refused = await grace("whoami")
    enabled = (await admin("users", "enable", "grace")).ok()
    back = (await grace("-o", "json", "whoami")).ok().json()

    assert added.stdout.strip() == "added Grace Hopper (grace) · roles: product-lead"
    assert changed.stdout.strip() == (
        "roles set: Grace Hopper (grace) · roles: exec-sponsor, finance"
    )
    row = next(line for line in listed.stdout.splitlines() if line.split()[:1] == ["grace"])
    assert row.split() == ["grace", "Grace", "Hopper", "exec-sponsor,", "finance", "active"]
    assert "2 user(s)" in listed.stdout
    assert {u["subject"]: u["roles"] for u in listed_json} == {
        "admin-ann": ["admin"],
        "grace": ["exec-sponsor", "finance"],
    }
    assert disabled.stdout.strip() == (
        "disabled Grace Hopper (grace) · roles: exec-sponsor, finance · disabled"
    )
    assert refused.exit_code == 1
    assert refused.reason.startswith("refused (401 auth.token_user_disabled): ")
    assert enabled.stdout.strip() == "enabled Grace Hopper (grace) · roles: exec-sponsor, finance"
    assert back["roles"] == ["exec-sponsor", "finance"]


async def test_subjects_are_escaped_in_paths(live_api: LiveApi) -> None:
    subject = "auth0|42 x?y#z"
    (await live_api.cli("users", "add", subject, "--name", "Odd Subject")).ok()

    disabled = (await live_api.cli("-o", "json", "users", "disable", subject)).ok().json()

    assert disabled["subject"] == subject
    assert disabled["disabled"] is True


async def test_tokens_are_created_shown_once_listed_and_revoked(live_api: LiveApi) -> None:
    admin = live_api.cli
    (await admin("users", "add", "ada", "--name", "Ada Lovelace", "--role", "product-manager")).ok()

    created = (await admin("tokens", "create", "ada", "--label", "laptop", "--days", "7")).ok()
    lines = created.stdout.strip().splitlines()
    secret = lines[1]
    token_id = lines[0].split()[1]
    ada = live_api.as_(secret)
    assert lines[0].startswith(f"token {token_id} for ada (laptop), expires ")
    assert secret.startswith(f"lc_{token_id}_")
    assert lines[2] == f"shown once: store it now. Revoke with: lifecycle tokens revoke {token_id}"
    assert "Ada Lovelace (ada)" in (await ada("whoami")).ok().stdout

    own = (await ada("-o", "json", "tokens", "list", "--subject", "ada")).ok().json()
    assert [(t["token_id"], t["label"], t["revoked_at"]) for t in own] == [
        (token_id, "laptop", None)
    ]
    assert all("token" not in t for t in own)
    listed = (await admin("tokens", "list")).ok().stdout
    assert secret not in listed
    row = next(line for line in listed.splitlines() if token_id in line)
    assert row.split()[:3] == [token_id, "ada", "laptop"]
    assert row.split()[-1] == "active"

    revoked = (await ada("tokens", "revoke", token_id)).ok()
    after = await ada("whoami")
    listed_after = (await admin("tokens", "list", "--subject", "ada")).ok().stdout

    assert revoked.stdout.strip() == f"revoked token {token_id} of ada"
    assert after.exit_code == 1
    assert after.reason.startswith("refused (401 auth.token_revoked): ")
    assert "revoked" in next(line for line in listed_after.splitlines() if token_id in line)


async def test_a_person_issues_their_own_token_but_not_someone_elses(live_api: LiveApi) -> None:
    ada = live_api.as_(await live_api.token_for("ada", ["product-manager"], "Ada Lovelace"))
    await live_api.token_for("bob", ["finance"], "Bob")

    mine = (await ada("-o", "json", "tokens", "create", "ada", "--label", "ci")).ok().json()
    theirs = await ada("tokens", "create", "bob")
    listed = await ada("-o", "json", "tokens", "list")

    assert mine["subject"] == "ada"
    assert theirs.exit_code == 1
    assert theirs.reason == (
        "refused (403 auth.role_required): this needs role 'admin'; Ada Lovelace holds none"
    )
    assert theirs.stdout == ""
    assert {token["subject"] for token in listed.ok().json()} == {"ada"}


async def test_user_administration_needs_the_admin_role(live_api: LiveApi) -> None:
    ada = live_api.as_(await live_api.token_for("ada", ["product-manager"], "Ada Lovelace"))

    for args in (
        ("users", "add", "eve", "--name", "Eve"),
        ("users", "list"),
        ("users", "set-roles", "ada", "--role", "admin"),
        ("users", "disable", "admin-ann"),
    ):
        refused = await ada(*args)
        assert refused.exit_code == 1, args
        assert refused.reason.startswith("refused (403 auth.role_required): "), args


async def test_user_administration_refusals_name_the_rule(live_api: LiveApi) -> None:
    admin = live_api.cli
    (await admin("users", "add", "ada", "--name", "Ada")).ok()

    again = await admin("users", "add", "ada", "--name", "Ada")
    nobody = await admin("users", "disable", "nobody")
    bad_role = await admin("-o", "json", "users", "add", "eve", "--name", "Eve", "--role", "Boss")
    no_roles = await admin("users", "set-roles", "ada")

    assert again.exit_code == 1
    assert again.reason == "refused (409 user.exists): user 'ada' already exists"
    assert nobody.exit_code == 1
    assert nobody.reason == "refused (404 user.not_found): no user 'nobody'"
    assert bad_role.exit_code == 1
    assert bad_role.json()["error"]["rule"] == "request.invalid"
    assert bad_role.json()["error"]["fields"][0]["location"] == "body.roles.0"
    assert no_roles.exit_code == 2
    assert "give at least one --role" in no_roles.stderr


async def test_an_expired_token_is_refused_with_its_reason(live_api: LiveApi) -> None:
    admin = live_api.cli
    (await admin("users", "add", "ada", "--name", "Ada")).ok()
    token = (await admin("-o", "json", "tokens", "create", "ada", "--days", "1")).ok().json()
    ada = live_api.as_(token["token"])
    (await ada("whoami")).ok()

    live_api.clock.now += timedelta(days=2)
    expired = await ada("whoami")
    expired_json = await ada("-o", "json", "whoami")

    assert expired.exit_code == 1
    assert expired.stdout == ""
    assert expired.reason == (
        f"refused (401 auth.token_expired): token {token['token_id']} has expired (expired)"
    )
    assert expired_json.exit_code == 1
    assert expired_json.json()["error"]["rule"] == "auth.token_expired"
