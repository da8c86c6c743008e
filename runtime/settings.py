"""Configuration from the environment, in one place, validated at start-up.

Every variable is `LIFECYCLE_*`, except the database and Temporal connection, which keep the
names other tools already use: `DATABASE_URL`, and Temporal's own environment configuration
(`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`), so one set of
variables serves the `temporal` CLI and this service alike.

A field's `needed_by` (in `json_schema_extra`) names the deployed processes that must have it
set explicitly (the defaults suit a laptop, not a container); the compose test reads it.
"""

import logging
import secrets
from pathlib import Path
from typing import Literal, get_args

from pydantic import (
    AliasChoices,
    Field,
    JsonValue,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

ProcessRole = Literal["api", "worker", "migrate"]
_API_AND_WORKER: dict[str, JsonValue] = {"needed_by": ["api", "worker"]}
_EVERY_PROCESS: dict[str, JsonValue] = {"needed_by": ["api", "worker", "migrate"]}
_API: dict[str, JsonValue] = {"needed_by": ["api"]}
_WORKER: dict[str, JsonValue] = {"needed_by": ["worker"]}


class Settings(BaseSettings):
    """Unset DATABASE_URL means: run the embedded PostgreSQL under the data directory."""

    # An empty variable (`TEMPORAL_TLS=` as in .env.example) means unset, not "the empty value".
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    database_url: str | None = Field(
        default=None, validation_alias="DATABASE_URL", json_schema_extra=_EVERY_PROCESS
    )
    # The password of the restricted role the worker and API log in as (not needed on the
    # embedded server, which trusts local logins).
    app_db_password: SecretStr | None = Field(
        default=None,
        validation_alias="LIFECYCLE_APP_DB_PASSWORD",
        json_schema_extra=_API_AND_WORKER,
    )
    temporal_address: str = Field(
        default="127.0.0.1:7233",
        validation_alias="TEMPORAL_ADDRESS",
        json_schema_extra=_API_AND_WORKER,
    )
    temporal_namespace: str = Field(
        default="default", validation_alias="TEMPORAL_NAMESPACE", json_schema_extra=_API_AND_WORKER
    )
    temporal_task_queue: str = Field(
        default="product-lifecycle",
        validation_alias="TEMPORAL_TASK_QUEUE",
        json_schema_extra=_API_AND_WORKER,
    )
    # Products publish LifecycleStage/Status/Owner for operators; the API refuses to start on
    # a namespace without them unless this is off (then products publish nothing).
    search_attributes: bool = Field(default=True, validation_alias="LIFECYCLE_SEARCH_ATTRIBUTES")
    # Temporal Cloud or a cluster with mTLS: Temporal's own environment configuration names.
    # An API key turns TLS on; client certificate and key go together.
    temporal_api_key: SecretStr | None = Field(default=None, validation_alias="TEMPORAL_API_KEY")
    temporal_tls: bool | None = Field(default=None, validation_alias="TEMPORAL_TLS")
    temporal_tls_client_cert_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_CLIENT_CERT_PATH"
    )
    temporal_tls_client_key_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_CLIENT_KEY_PATH"
    )
    temporal_tls_server_ca_cert_path: Path | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_SERVER_CA_CERT_PATH"
    )
    temporal_tls_server_name: str | None = Field(
        default=None, validation_alias="TEMPORAL_TLS_SERVER_NAME"
    )
    data_dir: Path = Field(default=Path(".lifecycle"), validation_alias="LIFECYCLE_DATA_DIR")
    log_level: str = Field(default="INFO", validation_alias="LIFECYCLE_LOG_LEVEL")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", validation_alias="LIFECYCLE_LOG_FORMAT"
    )
    api_host: str = Field(
        default="127.0.0.1", validation_alias="LIFECYCLE_API_HOST", json_schema_extra=_API
    )
    api_port: int = Field(default=8000, ge=1, le=65535, validation_alias="LIFECYCLE_API_PORT")
    playbook_dir: Path | None = Field(default=None, validation_alias="LIFECYCLE_PLAYBOOK_DIR")
    # Where notifications go (webhooks, people channels): runtime/notification_routes.py.
    # Endpoints and their secrets are deployment config, kept out of the content-hashed
    # playbooks; unset, notifications go to the outbox and the log only.
    notification_routes: Path | None = Field(
        default=None, validation_alias="LIFECYCLE_NOTIFICATION_ROUTES"
    )
    oidc_issuer: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_AUDIENCE")
    oidc_jwks_url: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_JWKS_URL")
    oidc_roles_claim: str = Field(default="roles", validation_alias="LIFECYCLE_OIDC_ROLES_CLAIM")
    oidc_name_claim: str = Field(default="name", validation_alias="LIFECYCLE_OIDC_NAME_CLAIM")
    session_secret: SecretStr | None = Field(
        default=None, validation_alias="LIFECYCLE_SESSION_SECRET", json_schema_extra=_API
    )
    # The origin browsers reach the web pages at through a reverse proxy, e.g.
    # https://lifecycle.example.com: forms from it pass the CSRF origin check though the proxy
    # rewrites Host, and session cookies are Secure when it is https. Unset: served directly.
    public_origin: str | None = Field(default=None, validation_alias="LIFECYCLE_PUBLIC_ORIGIN")
    # Product workflows a worker keeps in memory. A command on one that was evicted first
    # replays its history (slower); each cached product costs about 0.33 MB of the worker's
    # memory. Size it to the products open across a worker's share of the task queue.
    worker_cache_size: int = Field(
        default=1000, ge=0, le=1_000_000, validation_alias="LIFECYCLE_WORKER_CACHE_SIZE"
    )
    # The worker's own HTTP port: /healthz, /readyz and our /metrics. Unset: not served.
    worker_health_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias="LIFECYCLE_WORKER_HEALTH_PORT",
        json_schema_extra=_WORKER,
    )
    # Where the Temporal SDK serves its Prometheus metrics (host:port). Unset: not served.
    temporal_metrics_bind: str | None = Field(
        default=None, validation_alias="LIFECYCLE_TEMPORAL_METRICS_BIND", json_schema_extra=_WORKER
    )
    # Traces go to this OTLP/HTTP collector (e.g. http://otel-collector:4318). Unset: off.
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LIFECYCLE_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("temporal_metrics_bind")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("must be host:port, e.g. 0.0.0.0:9464")
        return value

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL of an OTLP/HTTP collector")
        return value

    @model_validator(mode="after")
    def _client_cert_with_key(self) -> "Settings":
        if (self.temporal_tls_client_cert_path is None) != (
            self.temporal_tls_client_key_path is None
        ):
            raise ValueError(
                "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: "
                "set both for mTLS, or neither"
            )
        return self

    @model_validator(mode="after")
    def _session_secret_or_random(self) -> "Settings":
        """Web sessions are signed with this key. Unset: a random one per start, so sessions
        end when the process restarts; set it to keep them across restarts and processes."""
        if self.session_secret is None:
            self.session_secret = SecretStr(secrets.token_urlsafe(32))
        return self


def env_names(field: FieldInfo) -> tuple[str, ...]:
    """The environment variables a field reads, the preferred one first."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return (alias,)
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    raise TypeError(f"settings field without an environment name: {field!r}")


def env_name_of(field_name: str) -> str:
    return env_names(Settings.model_fields[field_name])[0]


def needed_by(role: ProcessRole) -> list[str]:
    """The variables a deployed process of this role must be given explicitly."""
    wanted = []
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra
        roles = extra.get("needed_by") if isinstance(extra, dict) else None
        if isinstance(roles, list) and role in roles:
            wanted.append(env_names(field)[0])
    return wanted


def settings_problems(error: ValidationError) -> list[dict[str, str]]:
    """Each problem names its variable; the offending value is repeated unless it is a secret."""
    secret_variables = {
        env_names(field)[0]
        for field in Settings.model_fields.values()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    }
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "configuration"
        message = str(item["msg"]).removeprefix("Value error, ")
        if (
            item["loc"]
            and location not in secret_variables
            and isinstance(item["input"], str | int)
        ):
            message = f"{message} (got {item['input']!r})"
        problems.append({"location": location, "message": message})
    return problems
