"""Connecting while the Temporal server is still starting: its port is open, but its frontend
answers Unavailable until it serves. A real server's window is too short to hit on purpose,
so a stand-in frontend speaks the same gRPC service and answers as a starting one does."""

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import grpc
import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest, GetSystemInfoResponse

from worker import TemporalNotServing, connect_temporal

SERVICE = "temporal.api.workflowservice.v1.WorkflowService"
NOT_HEALTHY = "Frontend is not healthy yet"


@dataclass
class StartingFrontend:
    """Answers GetSystemInfo with Unavailable `starting_answers` times, then serves."""

    address: str
    starting_answers: int
    calls: int = 0

    async def get_system_info(
        self, request: GetSystemInfoRequest, context: grpc.aio.ServicerContext
    ) -> GetSystemInfoResponse:
        self.calls += 1
        if self.calls <= self.starting_answers:
            await context.abort(grpc.StatusCode.UNAVAILABLE, NOT_HEALTHY)
        # A modern server's capabilities, so the SDK does not warn about an old one.
        capabilities = GetSystemInfoResponse.Capabilities(activity_failure_include_heartbeat=True)
        return GetSystemInfoResponse(server_version="stand-in", capabilities=capabilities)


@contextlib.asynccontextmanager
async def starting_frontend(starting_answers: int) -> AsyncIterator[StartingFrontend]:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    frontend = StartingFrontend(f"127.0.0.1:{port}", starting_answers)
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "GetSystemInfo": grpc.unary_unary_rpc_method_handler(
                        frontend.get_system_info,
                        request_deserializer=GetSystemInfoRequest.FromString,
                        response_serializer=GetSystemInfoResponse.SerializeToString,
                    )
                },
            )
        ]
    )
    await server.start()
    try:
        yield frontend
    finally:
        await server.stop(grace=None)


async def test_a_client_waits_for_a_starting_frontend_and_connects_once_it_serves() -> None:
    async with starting_frontend(starting_answers=3) as frontend:
        client = await connect_temporal(frontend.address, "default")

    assert client.service_client.config.target_host == frontend.address
    assert frontend.calls == 4


async def test_a_frontend_still_starting_past_the_patience_is_refused_naming_its_address() -> None:
    async with starting_frontend(starting_answers=1_000_000) as frontend:
        with pytest.raises(TemporalNotServing) as refused:
            await connect_temporal(
                frontend.address, "default", starting_patience=timedelta(seconds=1)
            )

    assert str(refused.value).startswith(
        f"Temporal at {frontend.address} kept answering Unavailable, as a starting server "
        "does, for 1s"
    )
    assert NOT_HEALTHY in str(refused.value)
    assert frontend.calls >= 2


async def test_an_address_where_nothing_listens_fails_at_once_without_waiting() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = held.getsockname()[1]
        with pytest.raises(RuntimeError) as refused:
            await connect_temporal(f"127.0.0.1:{port}", "default")

    assert not isinstance(refused.value, TemporalNotServing)
    assert "call error after connection" not in str(refused.value)
