"""A client that lost an answer sends the command again with its Idempotency-Key and gets the
first answer back; the command is applied once. And when the workflow service cannot take a
command now, the answer says so with a 503 and a Retry-After, never a 500."""

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.any_pb2 import Any
from temporalio.api.common.v1 import GrpcStatus
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import install_error_handlers, unavailable_response
from tests.api.conftest import ApiHarness
from tests.api.http_journey import People
from tests.support.journey import OWNER, register
from tests.support.playbook_versions import V1
from workflows.contracts import stream_id_for
from workflows.product_client import ProductLifecycleClient, workflow_not_ready

EVIDENCE = {"requirement": "customer-interview", "title": "Call with Acme"}


@pytest.fixture
def people(api: ApiHarness) -> People:
    return People(api)


async def evidence_titles(api: ApiHarness, product_id: str) -> list[str]:
    stored = await api.services.events.read_stream(stream_id_for(product_id))
    return [e.data["title"] for e in stored if e.type == "EvidenceSubmitted"]


async def test_a_command_sent_twice_with_one_key_is_applied_once_and_answered_alike(
    api: ApiHarness, people: People, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    owner = {**await people.headers(OWNER), "Idempotency-Key": "interview-acme-1"}

    first = await api.http.post(f"/products/{product_id}/evidence", json=EVIDENCE, headers=owner)
    again = await api.http.post(f"/products/{product_id}/evidence", json=EVIDENCE, headers=owner)

    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert await evidence_titles(api, product_id) == ["Call with Acme"]


async def test_a_registration_sent_twice_with_one_key_registers_once_and_answers_alike(
    api: ApiHarness, people: People, product_id: str
) -> None:
    owner = await people.headers(OWNER)
    keyed = {**owner, "Idempotency-Key": "register-atlas-1"}
    body = {"id": product_id, "name": "Atlas"}

    first = await api.http.post("/products", json=body, headers=keyed)
    again = await api.http.post("/products", json=body, headers=keyed)
    unkeyed = await api.http.post("/products", json=body, headers=owner)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert unkeyed.status_code == 409, unkeyed.text
    assert unkeyed.json()["error"]["rule"] == "product.already_registered"
    stored = await api.services.events.read_stream(stream_id_for(product_id))
    assert [e.type for e in stored].count("ProductRegistered") == 1


async def test_without_a_key_or_with_another_key_each_request_is_a_new_command(
    api: ApiHarness, people: People, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    owner = await people.headers(OWNER)

    for headers in (
        owner,
        owner,
        {**owner, "Idempotency-Key": "a"},
        {**owner, "Idempotency-Key": "b"},
    ):
        response = await api.http.post(
            f"/products/{product_id}/evidence", json=EVIDENCE, headers=headers
        )
        assert response.status_code == 200, response.text

    assert len(await evidence_titles(api, product_id)) == 4


async def test_two_people_using_the_same_key_do_not_answer_each_other(
    api: ApiHarness, people: People, products: ProductLifecycleClient, product_id: str
) -> None:
    await products.register(register(product_id, V1))
    ada = {**await people.headers(OWNER), "Idempotency-Key": "k-1"}
    colleague = {**await api.person("bob", ["product-manager"]), "Idempotency-Key": "k-1"}

    first = await api.http.post(f"/products/{product_id}/evidence", json=EVIDENCE, headers=ada)
    second = await api.http.post(
        f"/products/{product_id}/evidence", json=EVIDENCE, headers=colleague
    )

    assert first.status_code == second.status_code == 200
    assert second.json()["version"] == first.json()["version"] + 1


@pytest.mark.parametrize("key", ["has space", "", "x" * 201])
async def test_a_malformed_key_is_refused_naming_the_header(
    api: ApiHarness, people: People, product_id: str, key: str
) -> None:
    headers = {**await people.headers(OWNER), "Idempotency-Key": key}

    response = await api.http.post(
        f"/products/{product_id}/evidence", json=EVIDENCE, headers=headers
    )

    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.text


@pytest.mark.parametrize(
    ("status", "rule"),
    [
        (RPCStatusCode.RESOURCE_EXHAUSTED, "product.busy"),
        (RPCStatusCode.UNAVAILABLE, "service.unavailable"),
        (RPCStatusCode.DEADLINE_EXCEEDED, "service.unavailable"),
    ],
)
def test_a_busy_or_absent_workflow_service_is_a_503_to_retry(
    status: RPCStatusCode, rule: str
) -> None:
    response = unavailable_response(RPCError("the server said so", status, b""))

    assert response is not None
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert rule.encode() in response.body
    assert b"nothing was changed" in response.body


def test_any_other_rpc_failure_is_not_passed_off_as_a_503() -> None:
    assert unavailable_response(RPCError("bug", RPCStatusCode.INVALID_ARGUMENT, b"")) is None


def not_ready_status(detail_type: str) -> bytes:
    """The status the server sends with FAILED_PRECONDITION, naming why in its details."""
    detail = Any(type_url=f"type.googleapis.com/temporal.api.errordetails.v1.{detail_type}")
    encoded: bytes = GrpcStatus(code=9, message="refused", details=[detail]).SerializeToString()
    return encoded


def test_a_product_whose_last_workflow_task_failed_is_a_503_to_retry_and_retried_meanwhile() -> (
    None
):
    error = RPCError(
        "Unable to perform workflow execution update due to Workflow Task in failed state.",
        RPCStatusCode.FAILED_PRECONDITION,
        not_ready_status("WorkflowNotReadyFailure"),
    )

    response = unavailable_response(error)

    assert workflow_not_ready(error)
    assert response is not None
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert b"product.busy" in response.body
    assert b"nothing was changed" in response.body


def test_other_failed_preconditions_are_neither_retried_nor_passed_off_as_a_503() -> None:
    other = RPCError(
        "a different precondition",
        RPCStatusCode.FAILED_PRECONDITION,
        not_ready_status("NamespaceNotActiveFailure"),
    )
    bare = RPCError("no details at all", RPCStatusCode.FAILED_PRECONDITION, b"")

    assert not workflow_not_ready(other)
    assert not workflow_not_ready(bare)
    assert unavailable_response(other) is None
    assert unavailable_response(bare) is None


async def test_a_command_that_outwaits_the_update_call_is_a_503_saying_it_may_still_apply() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/slow")
    async def slow() -> None:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        response = await http.post("/slow")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["rule"] == "product.busy"
    assert "may still be applied" in response.json()["error"]["message"]
