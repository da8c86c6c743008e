"""Log shape: JSON lines off a terminal, console on one; stdlib and Temporal loggers through
the same processors and context; one canonical line per request; no secret ever logged."""

import io
import json
import logging

import structlog

from runtime.log_setup import Deferred, configure_logging, redact_secrets
from tests.ops.conftest import CapturedLogs, OpsApi
from tests.support.journey import OWNER


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_structlog_lines_are_json_with_level_time_logger_and_bound_context(
    logs: CapturedLogs,
) -> None:
    with structlog.contextvars.bound_contextvars(product_id="atlas", request_id="r-1"):
        structlog.get_logger("lifecycle.test").info("gate.reviewed", round=2)

    [line] = logs.named("gate.reviewed")
    assert line["level"] == "info"
    assert line["logger"] == "lifecycle.test"
    assert line["round"] == 2
    assert line["product_id"] == "atlas"
    assert line["request_id"] == "r-1"
    assert line["timestamp"].endswith("Z")


def test_stdlib_and_temporal_loggers_go_through_the_same_processors(logs: CapturedLogs) -> None:
    with structlog.contextvars.bound_contextvars(workflow_id="product-atlas"):
        logging.getLogger("temporalio.worker").warning(
            "worker %s slow", "w-1", extra={"temporal_activity": {"activity_type": "append"}}
        )

    [line] = [x for x in logs.lines() if x.get("logger") == "temporalio.worker"]
    assert line["event"] == "worker w-1 slow"
    assert line["level"] == "warning"
    assert line["workflow_id"] == "product-atlas"
    assert line["temporal_activity"] == {"activity_type": "append"}


def test_uvicorns_coloured_duplicate_of_the_message_is_dropped(logs: CapturedLogs) -> None:
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "\x1b[36m%d\x1b[0m"}
    )

    [line] = [x for x in logs.lines() if x["logger"] == "uvicorn.error"]
    assert line["event"] == "Started server process [7]"
    assert "color_message" not in line


def test_exceptions_are_one_json_line_with_the_traceback(logs: CapturedLogs) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("lifecycle.test").exception("step.failed")

    [line] = logs.named("step.failed")
    assert "ValueError: boom" in line["exception"]
    assert len(logs.text.strip().splitlines()) == 1


def test_secrets_and_tokens_never_reach_the_output(logs: CapturedLogs) -> None:
    log = structlog.get_logger("lifecycle.test")
    log.info(
        "calling",
        authorization="Bearer eyJhbGciOi.payload.signature",
        headers={"Authorization": "Bearer abc.def.ghi", "accept": "json"},
        api_key="tcld-secret-key",
        dsn="postgresql://lifecycle_app:pg-password-123@db:5432/lifecycle",
        note="retrying with token lc_0123456789abcdefghij",
    )
    logging.getLogger("uvicorn.error").error("bad header Authorization: Bearer sk-live-xyz")

    for secret in (
        "eyJhbGciOi",
        "abc.def.ghi",
        "tcld-secret-key",
        "pg-password-123",
        "lc_0123456789abcdefghij",
        "sk-live-xyz",
    ):
        assert secret not in logs.text
    [line] = logs.named("calling")
    assert line["headers"] == {"Authorization": "[redacted]", "accept": "json"}
    assert line["dsn"] == "postgresql://lifecycle_app:[redacted]@db:5432/lifecycle"
    assert line["note"] == "retrying with token lc_[redacted]"


def test_the_redactor_leaves_ordinary_values_alone() -> None:
    event = {"event": "gate.decided", "product_id": "atlas", "token_count": 0, "stage": "launch"}

    assert redact_secrets(None, "info", dict(event)) == event


def test_console_output_on_a_terminal_and_json_when_asked(logs: CapturedLogs) -> None:
    terminal = Terminal()
    configure_logging("INFO", stream=terminal, cache=False)
    structlog.get_logger("lifecycle.test").info("on.a.terminal", product_id="atlas")
    printed = terminal.getvalue()
    assert "on.a.terminal" in printed
    assert not printed.lstrip().startswith("{")

    forced = Terminal()
    configure_logging("INFO", fmt="json", stream=forced, cache=False)
    structlog.get_logger("lifecycle.test").info("forced.json")
    assert json.loads(forced.getvalue())["event"] == "forced.json"


async def test_one_canonical_line_per_request_with_request_id_actor_and_product(
    logs: CapturedLogs, ops_api: OpsApi, product_id: str
) -> None:
    owner = await ops_api.person(OWNER.subject, *OWNER.roles)

    response = await ops_api.http.post(
        "/products",
        json={"id": product_id, "name": "Atlas Search", "description": "Search for teams"},
        headers={**owner, "X-Request-ID": "req-42"},
    )
    shown = await ops_api.http.get(f"/products/{product_id}", headers=owner)

    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "req-42"
    assert len(shown.headers["X-Request-ID"]) == 32  # a fresh one when none was offered
    requests = logs.named("http.request")
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/products", 201),
        ("GET", "/products/{product_id}", 200),
    ]
    assert requests[0]["request_id"] == "req-42"
    assert requests[1]["request_id"] == shown.headers["X-Request-ID"]
    assert requests[1]["product_id"] == product_id
    assert requests[1]["workflow_id"] == f"product-{product_id}"
    assert all(r["actor"] == OWNER.subject for r in requests)
    assert all(r["duration_ms"] >= 0 for r in requests)


async def test_a_request_token_never_appears_in_the_logs(
    logs: CapturedLogs, ops_api: OpsApi
) -> None:
    owner = await ops_api.person(OWNER.subject, *OWNER.roles)
    token = owner["Authorization"].removeprefix("Bearer ")

    await ops_api.http.get("/products", headers=owner)
    refused = await ops_api.http.get(
        "/products?token=" + token, headers={"Authorization": "Bearer lc_not-a-real-token-at-all"}
    )

    assert refused.status_code == 401
    assert [r["status"] for r in logs.named("http.request")] == [200, 401]
    assert token not in logs.text
    assert "lc_not-a-real-token-at-all" not in logs.text


async def test_lines_logged_after_authentication_name_the_actor(
    logs: CapturedLogs, ops_api: OpsApi
) -> None:
    owner = await ops_api.person(OWNER.subject, *OWNER.roles)
    new_user = {"subject": "grace", "display_name": "Grace", "roles": ["product-lead"]}

    anonymous = await ops_api.http.post("/users", json=new_user)
    refused = await ops_api.http.post(
        "/users", json=new_user, headers={**owner, "X-Request-ID": "req-403"}
    )

    assert (anonymous.status_code, refused.status_code) == (401, 403)
    unsigned, signed = logs.named("security.refused")
    assert "actor" not in unsigned  # nobody authenticated: no actor rather than a guess
    assert signed["actor"] == OWNER.subject
    assert signed["request_id"] == "req-403"
    assert [x.get("actor") for x in logs.named("http.request")] == [None, OWNER.subject]


def test_a_deferred_value_shows_its_value_even_where_our_pipeline_is_not_configured() -> None:
    subject: list[str] = []
    actor = Deferred(lambda: subject[0] if subject else None)

    assert repr(actor) == "None"
    subject.append("pm-ada")
    assert repr(actor) == "'pm-ada'"
