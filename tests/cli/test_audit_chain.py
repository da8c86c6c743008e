"""Auditors prove with the CLI that the log was not altered."""

from tests.cli.conftest import LiveApi


async def test_an_auditor_takes_a_digest_and_later_verifies_the_log_still_extends_it(
    live_api: LiveApi,
) -> None:
    admin = live_api.cli
    (await admin("product", "create", "atlas", "--name", "Atlas Search")).ok()
    digest = (await admin("audit", "digest")).ok().stdout.strip()
    (await admin("product", "create", "beacon", "--name", "Beacon")).ok()

    verified = (await admin("audit", "verify", "--against", digest)).ok()
    as_json = (await admin("-o", "json", "audit", "verify")).ok().json()
    forged = await admin("audit", "verify", "--against", f"{digest.split(':')[0]}:{'0' * 64}")
    malformed = await admin("audit", "verify", "--against", "yesterday")

    assert digest.startswith("1:")
    assert verified.stdout.startswith("OK: 2 events verify; head 2:")
    assert as_json["ok"] is True
    assert forged.exit_code == 1
    assert forged.reason.startswith("the log does not verify: position 1")
    assert malformed.exit_code == 2
