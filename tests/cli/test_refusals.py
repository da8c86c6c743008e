"""When the answer is no: a refusal exits 1 with one line naming the status and the rule; a usage
error exits 2; an API that cannot be reached or fails exits 3. With `--output json` the error
body goes to stdout as well, so scripts read refusals like answers."""

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.cli.cast import People, meet_discovery_criteria, register
from tests.cli.conftest import Cli, LiveApi, Run, free_port, serving
from tests.support.journey import gatekeeper

LIFECYCLE = Path(sys.executable).with_name("lifecycle")
LEAD = gatekeeper("product-lead")


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


# -- refusals by the API (exit 1) ---------------------------------------------------------------


async def test_a_decision_by_someone_without_the_decider_role_is_refused(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    refused = await owner("gate", "decide", product_id, "go", "--reason", "my call")

    message = assert_refused(refused, 403, "decision.role_not_held")
    assert message == "deciding gate 'discovery' needs role 'product-lead'; Ada Lovelace holds none"


async def test_registering_needs_a_product_manager(live_api: LiveApi, product_id: str) -> None:
    lead = live_api.as_(await live_api.token_for("lead", ["product-lead"], "Grace Hopper"))

    refused = await lead("product", "create", product_id, "--name", "Mine")

    message = assert_refused(refused, 403, "auth.role_required")
    assert message == ("this needs role 'product-manager' or 'admin'; Grace Hopper holds none")


async def test_signing_in_a_role_not_held_is_refused(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    (await owner("gate", "review", product_id)).ok()
    lead = await people.cli(LEAD)

    refused = await lead("gate", "signoff", product_id, "--approve", "--role", "exec-sponsor")

    message = assert_refused(refused, 403, "signoff.role_not_held")
    assert "does not hold role 'exec-sponsor'" in message


async def test_a_second_vote_by_the_same_person_is_refused(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    (await owner("gate", "review", product_id)).ok()
    lead = await people.cli(LEAD)
    (await lead("gate", "signoff", product_id, "--approve")).ok()

    again = await lead("gate", "signoff", product_id, "--reject", "--reason", "second thoughts")

    message = assert_refused(again, 409, "signoff.duplicate_vote")
    assert "already" in message


async def test_go_without_the_criteria_met_is_refused_with_what_is_missing(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    lead = await people.cli(LEAD)

    too_early = await lead("gate", "decide", product_id, "go", "--reason", "trust me")
    no_review = await (await people.owner())("gate", "review", product_id)

    message = assert_refused(too_early, 409, "gate.criteria_unmet")
    assert message.startswith("gate 'discovery' cannot pass; ")
    assert "0 of 5 customer interviews logged" in message
    assert_refused(no_review, 409, "review.criteria_unmet")


async def test_an_unknown_product_is_a_404(live_api: LiveApi, people: People) -> None:
    owner = await people.owner()

    shown = await owner("product", "show", "no-such-product")
    trail = await owner("audit", "log", "no-such-product")
    evidence = await owner("evidence", "add", "no-such-product", "roadmap", "--title", "x")

    assert assert_refused(shown, 404, "product.not_registered") == (
        "product 'no-such-product' is not registered"
    )
    assert_refused(trail, 404, "product.not_registered")
    assert_refused(evidence, 404, "product.not_registered")


async def test_invalid_input_is_a_422_naming_the_field(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    owner = await people.owner()

    bad_id = await owner("product", "create", "Not An Id", "--name", "x")
    bad_id_json = await owner("-o", "json", "product", "create", "Not An Id", "--name", "x")
    unknown_metric = await owner("metric", "record", product_id, "happiness", "9", "--source", "x")

    assert "body.id" in assert_refused(bad_id, 422, "request.invalid")
    error = bad_id_json.json()["error"]
    assert (error["status"], error["rule"]) == (422, "request.invalid")
    assert [f["location"] for f in error["fields"]] == ["body.id"]
    assert "happiness" in assert_refused(unknown_metric, 422, "metric.unknown")


async def test_bad_and_missing_tokens_are_401s(live_api: LiveApi) -> None:
    malformed = await live_api.as_("not-a-token")("whoami")
    unknown = await live_api.as_("lc_AAAAAAAAAAAA_" + "a" * 43)("whoami")
    missing = await live_api.as_(None)("product", "list")
    flag = await live_api.as_(None)("--token", live_api.admin_token, "whoami")

    assert_refused(malformed, 401, "auth.token_malformed")
    assert_refused(unknown, 401, "auth.token_unknown")
    assert assert_refused(missing, 401, "auth.missing_token").endswith(
        "(set LIFECYCLE_TOKEN or pass --token)"
    )
    assert "Ann Admin (admin-ann)" in flag.ok().stdout


async def test_json_output_puts_the_error_body_on_stdout_and_the_reason_on_stderr(
    live_api: LiveApi, people: People, product_id: str
) -> None:
    await register(people, product_id)
    lead = await people.cli(LEAD)

    refused = await lead("gate", "decide", product_id, "go", "--reason", "x", "--output", "json")

    assert refused.exit_code == 1
    body = refused.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == 409
    assert body["error"]["rule"] == "gate.criteria_unmet"
    assert body["error"]["message"].startswith("gate 'discovery' cannot pass; ")
    assert body["error"]["fields"] == []
    assert refused.reason.startswith("refused (409 gate.criteria_unmet): gate 'discovery'")


# -- usage errors (exit 2) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["-o", "yaml", "whoami"], "yaml"),
        (["gate", "decide", "p", "maybe", "--reason", "x"], "maybe"),
        (["gate", "decide", "p", "go"], "--reason"),
        (["gate", "signoff", "p"], "give exactly one verdict"),
        (["gate", "signoff", "p", "--approve", "--reject"], "give exactly one verdict"),
        (["gate", "signoff", "p", "--reject", "--verdict", "approve"], "give exactly one verdict"),
        (["gate", "signoff", "p", "--review", "--approve"], "give exactly one verdict"),
        (["gate", "signoff", "p", "--verdict", "maybe"], "maybe"),
        (["gate", "revoke", "p"], "--reason"),
        (["gate", "decide", "p", "conditional_go", "--reason", "x"], "conditional-go"),
        (["gate", "decide", "p", "go", "--reason", "x", "--condition", "c"], "conditional-go"),
        (["gate", "decide", "p", "hold", "--reason", "x", "--to", "discovery"], "with recycle"),
        (["gate", "decide", "p", "recycle", "--reason", "x", "--to", "someday"], "someday"),
        (["condition", "meet", "p"], "CONDITION_ID"),
        (["metric", "record", "p", "nps", "nan", "--source", "x"], "not a finite number"),
        (["metric", "record", "p", "nps", "1", "--source", "x", "--observed-at", "soon"], "ISO"),
        (["--url", "ftp://example.com", "whoami"], "must start with http:// or https://"),
        (["product", "create", "p"], "--name"),
        (["checklist", "reopen", "p", "item"], "--reason"),
        (["tokens", "create", "ada", "--days", "0"], "--days"),
    ],
)
async def test_usage_errors_exit_2_before_calling_the_api(args: list[str], complaint: str) -> None:
    nowhere = Cli(f"http://127.0.0.1:{free_port()}", "lc_unused")

    wrong = await nowhere(*args)

    assert wrong.exit_code == 2, (wrong.stdout, wrong.stderr)
    assert complaint in wrong.stderr
    assert "cannot reach" not in wrong.stderr


# -- the API cannot be reached or fails (exit 3) ------------------------------------------------


async def test_an_unreachable_api_is_one_line_and_exit_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli(url, "lc_whatever")

    text = await cli("product", "list")
    as_json = await cli("-o", "json", "product", "list")

    assert text.exit_code == 3
    assert text.stdout == ""
    assert text.reason == f"cannot reach the lifecycle API at {url}: connection refused"
    assert as_json.exit_code == 3
    assert as_json.json() == {
        "error": {
            "status": None,
            "rule": "api.unreachable",
            "message": f"cannot reach the lifecycle API at {url}: connection refused",
            "fields": [],
        }
    }


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_an_api_that_does_not_answer_times_out_with_exit_3() -> None:
    async with silent_server() as url:
        slow = await Cli(url, "lc_whatever")("--timeout", "0.3", "whoami")
        from_env = await Cli(url, "lc_whatever")("whoami", env={"LIFECYCLE_TIMEOUT": "0.2"})

    assert slow.exit_code == 3
    assert slow.reason == f"cannot reach the lifecycle API at {url}: no answer within 0.3s"
    assert from_env.exit_code == 3
    assert from_env.reason.endswith("no answer within 0.2s")


def failing_api() -> FastAPI:
    """What stands in front of a struggling API: its own 503s, a proxy's HTML, something else."""
    app = FastAPI()

    @app.get("/me")
    async def unavailable() -> JSONResponse:
        body = {"status": 503, "rule": "service.unavailable", "message": "retry", "fields": []}
        return JSONResponse({"error": body}, status_code=503)

    @app.get("/products")
    async def proxy() -> PlainTextResponse:
        return PlainTextResponse("<html><h1>502 Bad Gateway</h1></html>", status_code=502)

    @app.get("/approvals")
    async def not_the_api() -> PlainTextResponse:
        return PlainTextResponse("hello from another service")

    return app


async def test_server_errors_and_strangers_exit_3() -> None:
    async with serving(failing_api()) as url:
        cli = Cli(url, "lc_whatever")
        unavailable = await cli("whoami")
        unavailable_json = await cli("whoami", "-o", "json")
        proxy = await cli("product", "list")
        stranger = await cli("approvals")

    assert unavailable.exit_code == 3
    assert unavailable.reason == "failed (503 service.unavailable): retry"
    assert unavailable_json.exit_code == 3
    assert unavailable_json.json()["error"]["rule"] == "service.unavailable"
    assert proxy.exit_code == 3
    assert proxy.reason == (
        "failed (502 http.502): Bad Gateway: <html><h1>502 Bad Gateway</h1></html>"
    )
    assert stranger.exit_code == 3
    assert stranger.reason == (
        f"cannot reach the lifecycle API at {url}: "
        "the answer to /approvals is not JSON; is this the API?"
    )


def test_the_installed_command_reports_an_unreachable_api_on_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [str(LIFECYCLE), "whoami"],
        env={"LIFECYCLE_URL": url, "LIFECYCLE_TOKEN": "lc_whatever", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    usage = subprocess.run(
        [str(LIFECYCLE), "gate", "decide", "p", "maybe"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == f"cannot reach the lifecycle API at {url}: connection refused\n"
    assert usage.returncode == 2
