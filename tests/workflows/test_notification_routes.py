"""The notification routes file: which endpoints each kind goes to, and clear refusals of a
file that cannot be used (naming the file, the place in it and the problem, never a secret)."""

import base64
from pathlib import Path
from typing import get_args

import pytest

from domain.notifications import NotificationKind
from runtime.dev_stack import run_dev_stack
from runtime.notification_routes import (
    EMBEDDED_ROUTES,
    NotificationRoutesError,
    PeopleEndpoint,
    WebhookEndpoint,
    load_notification_routes,
    parse_notification_routes,
)
from runtime.settings import Settings
from worker import run_worker

SECRET = "whsec_" + base64.b64encode(b"a secret of twenty-four!").decode()

GOOD = f"""
endpoints:
  pm-portal:
    type: webhook
    url: http://127.0.0.1:9/hooks
    secret: {SECRET}
    retry: {{initial_interval_seconds: 1, maximum_attempts: 3}}
  finance-hook:
    type: webhook
    url: https://finance.example.com/hooks
    secret_env: FINANCE_HOOK_SECRET
  launch-room:
    type: people
    urls: ["json://127.0.0.1:9/room"]
routes:
  decision: [finance-hook, launch-room]
  "*": [pm-portal, launch-room]
"""


def refusal(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(NotificationRoutesError) as caught:
        parse_notification_routes(text, "routes.yaml", environ or {})
    return str(caught.value)


def test_a_kind_goes_to_its_own_endpoints_then_to_those_for_every_kind_each_once() -> None:
    routes = parse_notification_routes(GOOD, "routes.yaml", {"FINANCE_HOOK_SECRET": SECRET})

    assert routes.endpoints_for("decision") == ["finance-hook", "launch-room", "pm-portal"]
    assert routes.endpoints_for("reminder") == ["pm-portal", "launch-room"]
    portal = routes.endpoint("pm-portal")
    assert isinstance(portal, WebhookEndpoint)
    assert portal.retry.maximum_attempts == 3
    assert isinstance(routes.endpoint("launch-room"), PeopleEndpoint)


def test_a_secret_from_the_environment_is_read_and_never_shown() -> None:
    routes = parse_notification_routes(GOOD, "routes.yaml", {"FINANCE_HOOK_SECRET": SECRET})

    finance = routes.endpoint("finance-hook")
    assert isinstance(finance, WebhookEndpoint)
    assert finance.signing_secret().get_secret_value() == SECRET
    assert SECRET not in repr(routes)
    assert SECRET not in routes.model_dump_json()


def test_every_kind_the_domain_knows_can_be_routed() -> None:
    kinds = get_args(NotificationKind)
    text = "endpoints: {room: {type: people, urls: ['json://127.0.0.1:9/']}}\nroutes:\n"
    text += "".join(f"  {kind}: [room]\n" for kind in kinds)

    routes = parse_notification_routes(text, "routes.yaml", {})

    assert all(routes.endpoints_for(kind) == ["room"] for kind in kinds)


def test_no_file_means_the_embedded_default_with_no_endpoints() -> None:
    assert load_notification_routes(None) is EMBEDDED_ROUTES
    assert EMBEDDED_ROUTES.endpoints_for("decision") == []


def test_a_file_is_loaded_from_its_path(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(GOOD)

    routes = load_notification_routes(path, {"FINANCE_HOOK_SECRET": SECRET})

    assert routes.endpoints_for("reminder") == ["pm-portal", "launch-room"]


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(NotificationRoutesError, match=f"file {path}: cannot be read"):
        load_notification_routes(path)


def test_a_misspelt_kind_is_refused_listing_the_known_ones() -> None:
    message = refusal(
        "endpoints: {room: {type: people, urls: ['json://127.0.0.1:9/']}}\n"
        "routes: {decison: [room]}"
    )
    assert message.startswith("notification routes file routes.yaml: routes: 'decison' is not")
    assert "known kinds: approval_requested, decision," in message


def test_a_route_to_an_undefined_endpoint_is_refused_naming_both() -> None:
    message = refusal(
        "endpoints: {room: {type: people, urls: ['json://127.0.0.1:9/']}}\n"
        "routes: {decision: [room, board]}"
    )
    assert message.endswith("routes.decision: endpoint 'board' is not defined")


def test_an_unset_secret_variable_is_refused_naming_the_variable() -> None:
    message = refusal(GOOD)
    assert message == (
        "notification routes file routes.yaml: endpoints.finance-hook: secret_env: "
        "environment variable FINANCE_HOOK_SECRET is not set"
    )


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        (
            "{type: webhook, url: 'ftp://x/y', secret: " + SECRET + "}",
            "endpoints.hook.url: URL scheme should be 'http' or 'https'",
        ),
        (
            "{type: webhook, url: 'http://x/y'}",
            "endpoints.hook: give the signing secret: secret, or secret_env naming a variable",
        ),
        (
            "{type: webhook, url: 'http://x/y', secret: 'whsec_'}",
            "endpoints.hook: the secret is not a Standard Webhooks secret (whsec_ + base64)",
        ),
        (
            "{type: webhook, url: 'http://x/y', secret: " + SECRET + ", secret_env: HOOK}",
            "endpoints.hook: give one of secret and secret_env, not both",
        ),
        (
            "{type: people, urls: ['nosuchscheme://token@host/']}",
            "endpoints.hook.urls: url #1 (scheme 'nosuchscheme') is not a URL Apprise can send to",
        ),
        (
            "{type: fax, number: 12}",
            "endpoints.hook: Input tag 'fax' found using 'type' does not match",
        ),
        (
            "{type: people, urls: ['json://127.0.0.1/'], retry: {maximum_attempts: 0}}",
            "endpoints.hook.retry.maximum_attempts: Input should be greater than or equal to 1",
        ),
    ],
)
def test_a_bad_endpoint_is_refused_naming_its_place_and_problem(
    endpoint: str, problem: str
) -> None:
    message = refusal(f"endpoints:\n  hook: {endpoint}\n")
    assert problem in message
    assert message.startswith("notification routes file routes.yaml: ")


def test_a_token_in_a_refused_people_url_is_not_repeated() -> None:
    message = refusal("endpoints: {room: {type: people, urls: ['nosuchscheme://s3cr3t@host/']}}")
    assert "s3cr3t" not in message


def test_a_bad_endpoint_name_is_refused() -> None:
    message = refusal("endpoints: {Launch_Room: {type: people, urls: ['json://127.0.0.1/']}}")
    assert "endpoints.Launch_Room.[key]: String should match pattern" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("routes: [1, 2", "not valid YAML at line 1"),
        ("- just a list", "expected a mapping with endpoints and routes"),
        ("endpoint: {}", "endpoint: Extra inputs are not permitted"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(text: str, problem: str) -> None:
    assert refusal(text) == f"notification routes file routes.yaml: {problem}"


async def test_a_worker_with_an_unusable_routes_file_stops_before_it_starts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes: {decision: [nobody]}")
    settings = Settings(LIFECYCLE_NOTIFICATION_ROUTES=str(path))

    with pytest.raises(NotificationRoutesError, match="endpoint 'nobody' is not defined"):
        await run_worker(settings, "postgresql://127.0.0.1:1/never-reached")


async def test_the_dev_stack_with_an_unusable_routes_file_stops_before_starting_anything(
    tmp_path: Path,
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes: {decision: [nobody]}")
    data_dir = tmp_path / "data"
    settings = Settings(LIFECYCLE_NOTIFICATION_ROUTES=str(path), LIFECYCLE_DATA_DIR=str(data_dir))

    with pytest.raises(NotificationRoutesError, match="endpoint 'nobody' is not defined"):
        await run_dev_stack(settings, temporal_port=1, ui_port=1, announce=lambda _: None)
    assert not data_dir.exists()
