"""Where stakeholder notifications go: the routes file named by LIFECYCLE_NOTIFICATION_ROUTES.

This is deployment configuration, not playbook content. Playbooks are versioned and
content-hashed so a product can say which rules it ran under; webhook addresses, their signing
secrets and chat or mail URLs (which carry tokens) change per environment and must never be
part of that hash or of a product's history. So they live in their own file, read by the
worker at start-up, and delivery workflows carry only an endpoint's *name*.

The file::

    endpoints:
      pm-portal:                       # a name: lower case, digits, dashes
        type: webhook                  # Standard Webhooks: signed POST of the notification
        url: https://portal.example.com/hooks/lifecycle
        secret_env: PM_PORTAL_WEBHOOK_SECRET   # or `secret: whsec_...` inline
        retry: {initial_interval_seconds: 5, maximum_attempts: 8}
      launch-room:
        type: people                   # people channels through Apprise
        urls: ["slack://T000/B000/XXXX", "mailtos://user:pass@example.com?to=pm@example.com"]
    routes:                            # notification kind -> endpoint names
      approval_requested: [launch-room]
      decision: [pm-portal, launch-room]
      "*": [pm-portal]                 # every kind, in addition to its own list

Kinds are checked against the notification kinds the domain knows, read at run time, so a new
kind is routable as soon as the domain has it. Without a file the only channel is the embedded
one: the outbox and a log line per notification.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import apprise
import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from standardwebhooks.webhooks import Webhook

from domain.notifications import NotificationKind
from workflows.notification_delivery import DeliveryRetry

EVERY_KIND = "*"
ENDPOINT_NAME = r"^[a-z][a-z0-9-]{0,47}$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

EndpointName = Annotated[str, Field(pattern=ENDPOINT_NAME)]


def known_kinds() -> frozenset[str]:
    return frozenset(get_args(NotificationKind))


class NotificationRoutesError(Exception):
    """The routes file cannot be used; the message names the file, the place and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookEndpoint(_Strict):
    """A receiver of Standard Webhooks: the notification as JSON, signed with this endpoint's
    own secret (`whsec_` + base64, as the spec's libraries generate)."""

    type: Literal["webhook"]
    url: AnyHttpUrl
    secret: SecretStr | None = None
    secret_env: str | None = None
    retry: DeliveryRetry = DeliveryRetry()

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookEndpoint:
        if self.secret is None and self.secret_env is None:
            raise ValueError("give the signing secret: secret, or secret_env naming a variable")
        if self.secret is None:
            raise ValueError(f"secret_env: environment variable {self.secret_env} is not set")
        _check_secret(self.secret)
        return self

    def signing_secret(self) -> SecretStr:
        assert self.secret is not None, "resolved when the file is loaded"
        return self.secret


class PeopleEndpoint(_Strict):
    """People channels (email, Slack, Teams, ...) as Apprise URLs; they carry tokens, so they
    are secrets too."""

    type: Literal["people"]
    urls: list[SecretStr] = Field(min_length=1)
    retry: DeliveryRetry = DeliveryRetry()

    @field_validator("urls")
    @classmethod
    def _understood(cls, urls: list[SecretStr]) -> list[SecretStr]:
        for index, url in enumerate(urls):
            if apprise.Apprise.instantiate(url.get_secret_value()) is None:
                # Name the place and the scheme only: the rest of the URL may hold a token.
                scheme = url.get_secret_value().partition("://")[0]
                raise ValueError(
                    f"url #{index + 1} (scheme {scheme!r}) is not a URL Apprise can send to"
                )
        return urls


Endpoint = Annotated[WebhookEndpoint | PeopleEndpoint, Field(discriminator="type")]


class NotificationRoutes(_Strict):
    endpoints: dict[EndpointName, Endpoint] = {}
    routes: dict[str, list[EndpointName]] = {}

    @model_validator(mode="after")
    def _routes_name_known_things(self) -> NotificationRoutes:
        kinds = known_kinds()
        for kind, names in self.routes.items():
            if kind != EVERY_KIND and kind not in kinds:
                raise ValueError(
                    f"routes: {kind!r} is not a notification kind; known kinds: "
                    f"{', '.join(sorted(kinds))} (or {EVERY_KIND!r} for every kind)"
                )
            for name in names:
                if name not in self.endpoints:
                    raise ValueError(f"routes.{kind}: endpoint {name!r} is not defined")
        return self

    def endpoints_for(self, kind: str) -> list[str]:
        """The kind's own endpoints, then those for every kind, each once."""
        names = [*self.routes.get(kind, []), *self.routes.get(EVERY_KIND, [])]
        return list(dict.fromkeys(names))

    def endpoint(self, name: str) -> WebhookEndpoint | PeopleEndpoint | None:
        return self.endpoints.get(name)


EMBEDDED_ROUTES = NotificationRoutes()


def _check_secret(secret: SecretStr) -> None:
    try:
        Webhook(secret.get_secret_value())
    except Exception:
        raise ValueError("the secret is not a Standard Webhooks secret (whsec_ + base64)") from None


def _location(loc: tuple[int | str, ...]) -> str:
    # Drop the discriminator's tag pydantic adds ("endpoints.x.webhook.url" -> "endpoints.x.url").
    parts = [str(p) for p in loc if p not in ("webhook", "people")]
    return ".".join(parts)


def _resolve_secrets(raw: Any, environ: Mapping[str, str]) -> list[str]:
    """Fill `secret` from `secret_env`; answers the problems, one per endpoint."""
    problems: list[str] = []
    endpoints = raw.get("endpoints") if isinstance(raw, dict) else None
    if not isinstance(endpoints, dict):
        return problems
    for name, endpoint in endpoints.items():
        if not isinstance(endpoint, dict) or not isinstance(endpoint.get("secret_env"), str):
            continue
        if "secret" in endpoint:
            problems.append(f"endpoints.{name}: give one of secret and secret_env, not both")
            continue
        variable = endpoint["secret_env"]
        value = environ.get(variable)
        if value:  # unset: the model names the variable
            endpoint["secret"] = value
    return problems


def parse_notification_routes(
    text: str, source: str, environ: Mapping[str, str] | None = None
) -> NotificationRoutes:
    """Parse and check a routes file's text; `source` names it in errors."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise NotificationRoutesError(
            f"notification routes file {source}: not valid YAML{where}"
        ) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise NotificationRoutesError(
            f"notification routes file {source}: expected a mapping with endpoints and routes"
        )
    problems = _resolve_secrets(raw, os.environ if environ is None else environ)
    try:
        routes = NotificationRoutes.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors(include_input=False, include_url=False):
            message = str(detail["msg"]).removeprefix("Value error, ")
            where = _location(tuple(detail["loc"]))
            problems.append(f"{where}: {message}" if where else message)
        routes = None
    if problems or routes is None:
        listed = "; ".join(problems)
        raise NotificationRoutesError(f"notification routes file {source}: {listed}")
    return routes


def load_notification_routes(
    path: Path | None, environ: Mapping[str, str] | None = None
) -> NotificationRoutes:
    """The routes in `path`, or the embedded default (log and outbox only) when None."""
    if path is None:
        return EMBEDDED_ROUTES
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotificationRoutesError(
            f"notification routes file {path}: cannot be read ({error.strerror or error})"
        ) from None
    return parse_notification_routes(text, str(path), environ)
