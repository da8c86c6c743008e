"""The commands that do not talk to the API keep working: `playbook check`, `dev`, `worker`.
(`lifecycle dev` itself runs end to end in tests/e2e.)"""

from pathlib import Path

import pytest
import yaml

from playbooks import load_default_playbook
from tests.cli.conftest import Cli, free_port

WHERE = "stages[3](launch).exit_gate.checklist[0](positioning).owner_role"
DEFAULT_PLAYBOOK = Path(__file__).parents[2] / "playbooks" / "default.yaml"


@pytest.fixture
def cli() -> Cli:
    return Cli(f"http://127.0.0.1:{free_port()}")  # nothing listens: these must not call it


async def test_playbook_check_prints_stages_and_fingerprint(cli: Cli) -> None:
    checked = (await cli("playbook", "check", str(DEFAULT_PLAYBOOK))).ok()

    assert "Default product lifecycle (default v1)" in checked.stdout
    assert f"fingerprint {load_default_playbook().fingerprint()}" in checked.stdout
    assert "1x product-lead" in checked.stdout


async def test_playbook_check_as_json(cli: Cli) -> None:
    checked = (await cli("-o", "json", "playbook", "check", str(DEFAULT_PLAYBOOK))).ok().json()

    assert checked["valid"] is True
    assert checked["fingerprint"] == load_default_playbook().fingerprint()
    assert checked["playbook"]["name"] == "default"
    assert [s["stage"] for s in checked["playbook"]["stages"]][:2] == ["discovery", "planning"]


async def test_an_invalid_playbook_names_the_place_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_PLAYBOOK.read_text())
    document["stages"][3]["exit_gate"]["checklist"][0]["owner_role"] = "nobody"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))

    text = await cli("playbook", "check", str(broken))
    as_json = await cli("playbook", "check", str(broken), "--output", "json")

    assert text.exit_code == 1
    assert text.stdout == ""
    assert f"  {WHERE}: role 'nobody' is not declared under roles" in text.stderr
    assert as_json.exit_code == 1
    error = as_json.json()["error"]
    assert error["rule"] == "playbook.invalid"
    assert error["fields"][0]["location"] == WHERE
    assert "nobody" in error["fields"][0]["message"]


async def test_help_lists_every_command(cli: Cli) -> None:
    shown = (await cli("--help")).ok().stdout

    for command in (
        *("product", "evidence", "checklist", "metric", "gate", "audit", "approvals"),
        *("users", "tokens", "whoami", "dev", "worker", "playbook"),
    ):
        assert f" {command} " in shown, command
    for group, subcommands in {
        "product": ("create", "list", "show"),
        "gate": ("review", "signoff", "decide"),
        "users": ("add", "list", "set-roles", "disable", "enable"),
        "tokens": ("create", "list", "revoke"),
    }.items():
        listed = (await cli(group, "--help")).ok().stdout
        for subcommand in subcommands:
            assert f" {subcommand} " in listed, (group, subcommand)
    assert "--data-dir" in (await cli("dev", "--help")).ok().stdout
    assert "DATABASE_URL" in (await cli("worker", "--help")).ok().stdout
