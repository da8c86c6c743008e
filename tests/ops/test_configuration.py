"""One settings model: every variable documented in .env.example, `lifecycle config check`
showing the effective values with secrets masked, and bad values named by their variable."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from runtime.settings import Settings, env_names

ROOT = Path(__file__).parents[2]
ENV_EXAMPLE = ROOT / ".env.example"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No variable of ours leaks in from the machine, and no .env is read from the repository."""
    for field in Settings.model_fields.values():
        for name in env_names(field):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["config", "check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    missing = [env_names(f)[0] for f in Settings.model_fields.values()]
    assert [name for name in missing if name not in documented] == []


def test_env_example_copied_to_env_is_a_valid_configuration(clean_env: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(ENV_EXAMPLE.read_text())

    code, stdout, _ = check("-o", "json")

    assert code == 0
    rows = {row["variable"]: row for row in json.loads(stdout)["settings"]}
    assert rows["LIFECYCLE_WORKER_HEALTH_PORT"] == {
        "variable": "LIFECYCLE_WORKER_HEALTH_PORT",
        "value": "9100",
        "source": ".env",
    }
    assert rows["TEMPORAL_API_KEY"]["value"] == "(unset)"  # an empty line means unset


def test_config_check_prints_effective_values_with_secrets_masked(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    clean_env.setenv("TEMPORAL_API_KEY", "tcld-api-key-do-not-print")
    clean_env.setenv("LIFECYCLE_APP_DB_PASSWORD", "app-password-do-not-print")
    clean_env.setenv("LIFECYCLE_SESSION_SECRET", "session-secret-do-not-print")

    code, stdout, stderr = check("-o", "json")

    assert code == 0
    rows = {row["variable"]: row for row in json.loads(stdout)["settings"]}
    assert rows["TEMPORAL_ADDRESS"]["value"] == "temporal.internal:7233"
    assert rows["TEMPORAL_ADDRESS"]["source"] == "environment"
    assert rows["TEMPORAL_NAMESPACE"] == {
        "variable": "TEMPORAL_NAMESPACE",
        "value": "default",
        "source": "default",
    }
    for secret in ("TEMPORAL_API_KEY", "LIFECYCLE_APP_DB_PASSWORD", "LIFECYCLE_SESSION_SECRET"):
        assert rows[secret]["value"] == "********"
    assert "do-not-print" not in stdout + stderr


def test_config_check_as_a_table_masks_secrets_too(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LIFECYCLE_APP_DB_PASSWORD", "app-password-do-not-print")

    code, stdout, _ = check()

    assert code == 0
    assert "LIFECYCLE_APP_DB_PASSWORD" in stdout
    assert "********" in stdout
    assert "do-not-print" not in stdout


def test_a_bad_value_exits_2_naming_the_variable_and_the_problem(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("LIFECYCLE_LOG_LEVEL", "LOUD")
    clean_env.setenv("LIFECYCLE_API_PORT", "70000")

    code, stdout, stderr = check()

    assert code == 2
    assert stdout == ""
    assert (
        "LIFECYCLE_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got 'LOUD')"
        in stderr
    )
    assert "LIFECYCLE_API_PORT: Input should be less than or equal to 65535" in stderr


def test_a_bad_value_as_json_is_the_api_error_shape(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LIFECYCLE_TEMPORAL_METRICS_BIND", "9464")

    code, stdout, _ = check("-o", "json")

    assert code == 2
    error = json.loads(stdout)["error"]
    assert error["rule"] == "config.invalid"
    assert error["fields"] == [
        {
            "location": "LIFECYCLE_TEMPORAL_METRICS_BIND",
            "message": "must be host:port, e.g. 0.0.0.0:9464 (got '9464')",
        }
    ]


def test_a_client_certificate_without_its_key_is_refused_naming_both(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", "/certs/client.pem")

    code, _, stderr = check()

    assert code == 2
    assert "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together" in stderr


def test_the_worker_cache_size_is_read_and_a_negative_one_refused(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("LIFECYCLE_WORKER_CACHE_SIZE", "5000")
    assert Settings().worker_cache_size == 5000

    clean_env.setenv("LIFECYCLE_WORKER_CACHE_SIZE", "-1")
    code, _, stderr = check()

    assert code == 2
    assert "LIFECYCLE_WORKER_CACHE_SIZE: Input should be greater than or equal to 0" in stderr
