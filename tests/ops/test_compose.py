"""docker-compose.yml read as data (there is no Docker engine here): the official Temporal
images in the right order, healthchecks behind every `service_healthy`, workers that scale,
and every setting our processes need, taken from the Settings model, given to each of them.
First of all, the file is valid under the Compose Specification: check-jsonschema (a pinned dev
dependency) ships the specification's compose-spec.json, so nothing is downloaded to check it."""

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.settings import ProcessRole, Settings, env_names, needed_by
from workflows.visibility import SEARCH_ATTRIBUTES

ROOT = Path(__file__).parents[2]
OUR_SERVICES: dict[str, ProcessRole] = {"api": "api", "worker": "worker", "migrate": "migrate"}
_DEFAULTED = re.compile(r"\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}")
# The Compose Specification's own schema as the pinned check-jsonschema ships it: no download.
CHECK_COMPOSE_SPEC = ["-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


def check_against_compose_spec(path: Path) -> dict[str, Any]:
    """check-jsonschema's report on a compose file under its built-in Compose Specification."""
    assert importlib.util.find_spec("check_jsonschema"), (
        "install the dev extra: pip install -e .[dev]"
    )
    run = subprocess.run(
        [sys.executable, *CHECK_COMPOSE_SPEC, "--output-format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report: dict[str, Any] = json.loads(run.stdout)
    assert (run.returncode == 0) == (report["status"] == "ok"), run.stderr
    return report


def broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """docker-compose.yml with anchors resolved, `change`d in memory, written under tmp_path."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    change(compose)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(compose, sort_keys=False))
    return path


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's variables as compose would set them with nothing in the shell."""
    raw = service.get("environment") or {}
    assert isinstance(raw, dict), "environment is a mapping, so anchors can merge into it"
    return {str(k): _DEFAULTED.sub(lambda m: m.group(2) or "", str(v)) for k, v in raw.items()}


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command") or []
    return command if isinstance(command, str) else " ".join(command)


def test_the_compose_file_is_valid_under_the_compose_specification() -> None:
    assert check_against_compose_spec(ROOT / "docker-compose.yml") == {
        "status": "ok",
        "errors": [],
    }


def test_the_specification_check_refuses_an_unknown_key_in_a_service(tmp_path: Path) -> None:
    def misplace_restart_policy(compose: dict[str, Any]) -> None:  # it belongs under deploy
        compose["services"]["worker"]["restart_policy"] = {"condition": "on-failure"}

    report = check_against_compose_spec(broken_copy(tmp_path, misplace_restart_policy))

    assert report["status"] == "fail"
    [error] = report["errors"]
    assert error["path"] == "$.services.worker"
    assert "('restart_policy' was unexpected)" in error["message"]


def test_the_specification_check_refuses_a_depends_on_condition_it_does_not_know(
    tmp_path: Path,
) -> None:
    def misspell_condition(compose: dict[str, Any]) -> None:
        compose["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_completed"

    report = check_against_compose_spec(broken_copy(tmp_path, misspell_condition))

    assert report["status"] == "fail"
    assert {error["path"].split(".")[2] for error in report["errors"]} == {"api"}
    [refusal] = [error["best_deep_match"] for error in report["errors"] if error["has_sub_errors"]]
    assert refusal["path"] == "$.services.api.depends_on.migrate.condition"
    assert refusal["message"].startswith("'service_completed' is not one of [")
    assert "'service_completed_successfully'" in refusal["message"]


def test_the_temporal_cluster_uses_the_current_official_images(
    services: dict[str, Any],
) -> None:
    images = {name: str(s.get("image", "")) for name, s in services.items()}
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert images["temporal-namespace"].startswith("temporalio/admin-tools:")
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert images["postgresql"].startswith("postgres:")
    assert not any("auto-setup" in image for image in images.values())
    assert environment(services["temporal"])["DB"] == "postgres12"
    assert environment(services["temporal"])["POSTGRES_SEEDS"] == "postgresql"


def test_the_schema_job_sets_up_both_temporal_databases_with_the_sql_tool(
    services: dict[str, Any],
) -> None:
    script = command_text(services["temporal-schema"])
    assert "temporal-sql-tool --plugin postgres12 --ep postgresql" in script
    assert "for db in temporal temporal_visibility" in script
    assert "setup-schema -v 0.0" in script
    assert "update-schema -d" in script
    assert "/etc/temporal/schema/postgresql/v12/visibility/versioned" in script
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert "CREATE DATABASE temporal OWNER temporal" in init
    assert "CREATE DATABASE temporal_visibility OWNER temporal" in init


def test_the_namespace_job_creates_our_namespace_and_search_attributes(
    services: dict[str, Any],
) -> None:
    job = services["temporal-namespace"]
    script = command_text(job)
    assert "temporal operator namespace create" in script
    assert environment(job)["NAMESPACE"] == environment(services["api"])["TEMPORAL_NAMESPACE"]
    for key in SEARCH_ATTRIBUTES:
        assert key.name in script
    assert "--type Keyword" in script


def test_services_start_in_order_through_depends_on_conditions(services: dict[str, Any]) -> None:
    conditions = {
        (name, dependency): spec["condition"]
        for name, service in services.items()
        for dependency, spec in (service.get("depends_on") or {}).items()
    }
    assert conditions == {
        ("temporal-schema", "postgresql"): "service_healthy",
        ("temporal", "temporal-schema"): "service_completed_successfully",
        ("temporal-namespace", "temporal"): "service_healthy",
        ("temporal-ui", "temporal"): "service_healthy",
        ("migrate", "postgresql"): "service_healthy",
        ("api", "migrate"): "service_completed_successfully",
        ("api", "temporal-namespace"): "service_completed_successfully",
        ("worker", "migrate"): "service_completed_successfully",
        ("worker", "temporal-namespace"): "service_completed_successfully",
    }
    for (_, dependency), condition in conditions.items():
        target = services[dependency]
        if condition == "service_healthy":
            assert target["healthcheck"]["test"], f"{dependency} needs a healthcheck"
        else:  # a one-shot job: restarting it forever would never 'complete'
            assert str(target.get("restart", "no")) in ("no", "on-failure:5"), dependency


def test_our_long_running_services_have_healthchecks_on_their_readiness(
    services: dict[str, Any],
) -> None:
    assert "http://127.0.0.1:8000/readyz" in services["api"]["healthcheck"]["test"]
    assert "http://127.0.0.1:9100/readyz" in services["worker"]["healthcheck"]["test"]
    assert environment(services["worker"])["LIFECYCLE_WORKER_HEALTH_PORT"] == "9100"
    assert environment(services["api"])["LIFECYCLE_API_PORT"] == "8000"


def test_workers_scale_without_fixed_names_or_host_ports(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert not any("container_name" in s for s in services.values())


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_our_services_are_built_from_the_dockerfile_and_run_their_role(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    assert service["build"]["context"] == "."
    assert service["build"]["dockerfile"] == "Dockerfile"
    assert service["command"] == ["lifecycle", name]


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_every_setting_a_process_needs_is_set_for_it(services: dict[str, Any], name: str) -> None:
    given = environment(services[name])
    wanted = needed_by(OUR_SERVICES[name])

    assert wanted, "the Settings model marks what each process needs"
    assert [variable for variable in wanted if not given.get(variable)] == []
    known = {n for field in Settings.model_fields.values() for n in env_names(field)}
    assert sorted(set(given) - known) == [], "a variable no setting reads is a typo"
    Settings.model_validate({k: v for k, v in given.items() if v})  # and they are valid values


def test_our_services_find_postgres_and_temporal_by_service_name(
    services: dict[str, Any],
) -> None:
    for name in ("api", "worker"):
        given = environment(services[name])
        assert given["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "@postgresql:5432/" in given["DATABASE_URL"]
    api, worker = environment(services["api"]), environment(services["worker"])
    assert api["TEMPORAL_TASK_QUEUE"] == worker["TEMPORAL_TASK_QUEUE"]
    assert api["LIFECYCLE_API_HOST"] == "0.0.0.0"


def test_the_image_is_slim_non_root_and_health_checked() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert stages
    assert all(image.endswith("-slim") for image in stages)
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert user
    assert user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*runtime\.probe", dockerfile, flags=re.MULTILINE)
    for package in ("domain", "workflows", "activities", "store", "runtime", "api", "cli"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_observability_profile_scrapes_every_metrics_endpoint_we_serve(
    services: dict[str, Any],
) -> None:
    assert services["prometheus"]["profiles"] == ["observability"]
    assert services["jaeger"]["profiles"] == ["observability"]
    assert (
        "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (services["prometheus"]["volumes"])
    )
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.update(static["targets"])
        for found in job.get("dns_sd_configs", []):
            targets.update(f"{name}:{found['port']}" for name in found["names"])
    worker = environment(services["worker"])
    assert targets == {
        f"api:{environment(services['api'])['LIFECYCLE_API_PORT']}",
        f"worker:{worker['LIFECYCLE_WORKER_HEALTH_PORT']}",
        f"worker:{worker['LIFECYCLE_TEMPORAL_METRICS_BIND'].rpartition(':')[2]}",
        f"temporal:{environment(services['temporal'])['PROMETHEUS_ENDPOINT'].rpartition(':')[2]}",
    }
