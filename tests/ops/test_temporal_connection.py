"""Temporal Cloud and mTLS: the API key and TLS come from Temporal's own environment names."""

from pathlib import Path

import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from runtime.settings import Settings
from worker import TemporalConfigError, connect_temporal, temporal_tls


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


def test_no_tls_settings_mean_plain_grpc() -> None:
    assert temporal_tls(settings()) is False


def test_an_api_key_alone_turns_tls_on_and_temporal_tls_false_turns_it_off() -> None:
    assert temporal_tls(settings(TEMPORAL_API_KEY="tcld-key")) is True
    assert temporal_tls(settings(TEMPORAL_API_KEY="tcld-key", TEMPORAL_TLS="false")) is False


def test_client_certificate_key_and_ca_are_read_from_their_paths(tmp_path: Path) -> None:
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_bytes(f"-----{name}-----".encode())

    tls = temporal_tls(
        settings(
            TEMPORAL_TLS_CLIENT_CERT_PATH=str(tmp_path / "client.pem"),
            TEMPORAL_TLS_CLIENT_KEY_PATH=str(tmp_path / "client.key"),
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(tmp_path / "ca.pem"),
            TEMPORAL_TLS_SERVER_NAME="ns.tmprl.cloud",
        )
    )

    assert tls == TLSConfig(
        client_cert=b"-----client.pem-----",
        client_private_key=b"-----client.key-----",
        server_root_ca_cert=b"-----ca.pem-----",
        domain="ns.tmprl.cloud",
    )


def test_an_unreadable_certificate_path_names_its_variable(tmp_path: Path) -> None:
    (tmp_path / "client.key").write_bytes(b"key")

    with pytest.raises(TemporalConfigError) as refused:
        temporal_tls(
            settings(
                TEMPORAL_TLS_CLIENT_CERT_PATH=str(tmp_path / "missing.pem"),
                TEMPORAL_TLS_CLIENT_KEY_PATH=str(tmp_path / "client.key"),
            )
        )

    assert str(refused.value).startswith("TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read ")
    assert "missing.pem" in str(refused.value)


async def test_connecting_with_settings_reaches_a_plain_server(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    target = time_skipping_env.client.service_client.config.target_host

    client = await connect_temporal(target, "default", settings=settings(TEMPORAL_TLS="false"))

    assert await client.service_client.check_health()
