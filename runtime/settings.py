"""Configuration from the environment, in one place, validated at start-up."""

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Unset DATABASE_URL means: run the embedded PostgreSQL under the data directory."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # The password of the restricted role the worker and API log in as (not needed on the
    # embedded server, which trusts local logins).
    app_db_password: SecretStr | None = Field(
        default=None, validation_alias="LIFECYCLE_APP_DB_PASSWORD"
    )
    temporal_address: str = Field(default="127.0.0.1:7233", validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    temporal_task_queue: str = Field(
        default="product-lifecycle", validation_alias="TEMPORAL_TASK_QUEUE"
    )
    data_dir: Path = Field(default=Path(".lifecycle"), validation_alias="LIFECYCLE_DATA_DIR")
    log_level: str = Field(default="INFO", validation_alias="LIFECYCLE_LOG_LEVEL")
    api_host: str = Field(default="127.0.0.1", validation_alias="LIFECYCLE_API_HOST")
    api_port: int = Field(default=8000, ge=1, le=65535, validation_alias="LIFECYCLE_API_PORT")
    playbook_dir: Path | None = Field(default=None, validation_alias="LIFECYCLE_PLAYBOOK_DIR")
    oidc_issuer: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_AUDIENCE")
    oidc_jwks_url: str | None = Field(default=None, validation_alias="LIFECYCLE_OIDC_JWKS_URL")
    oidc_roles_claim: str = Field(default="roles", validation_alias="LIFECYCLE_OIDC_ROLES_CLAIM")
    oidc_name_claim: str = Field(default="name", validation_alias="LIFECYCLE_OIDC_NAME_CLAIM")
    session_secret: SecretStr | None = Field(
        default=None, validation_alias="LIFECYCLE_SESSION_SECRET"
    )

    @model_validator(mode="after")
    def _session_secret_or_random(self) -> "Settings":
        """Web sessions are signed with this key. Unset: a random one per start, so sessions
        end when the process restarts; set it to keep them across restarts and processes."""
        if self.session_secret is None:
            self.session_secret = SecretStr(secrets.token_urlsafe(32))
        return self
