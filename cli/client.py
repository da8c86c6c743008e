"""The one way the CLI talks to the lifecycle API: bearer token out, one exception per failure.

Every refusal the API gives has the body `{"error": {"status", "rule", "message", "fields"}}`
(see `api/errors.py`); it becomes `ApiError`. Anything between the CLI and that answer failing
(nothing listening, DNS, TLS, a timeout, a proxy answering in HTML) becomes `ApiUnreachable`
or an `ApiError` with a synthesised body, so the commands handle exactly two exception types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "lifecycle-cli/0.1.0"
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


class ApiError(Exception):
    """The API answered, and the answer is a refusal (4xx) or a failure (5xx)."""

    def __init__(
        self,
        status: int,
        rule: str,
        message: str,
        fields: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {rule}: {message}")
        self.status = status
        self.rule = rule
        self.message = message
        self.fields = fields or []
        self.body: dict[str, Any] = body or {
            "error": {"status": status, "rule": rule, "message": message, "fields": self.fields}
        }

    @property
    def is_server_error(self) -> bool:
        return self.status >= 500


class ApiUnreachable(Exception):
    """No answer from the API: nothing listening, name not resolved, timed out, broken reply."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the lifecycle API at {url}: {reason}")
        self.url = url
        self.reason = reason


def segment(value: str) -> str:
    """One path segment, escaped: subjects like `auth0|42` or `a/b` must not change the route."""
    return quote(value, safe="")


class LifecycleClient:
    """A small synchronous client; one instance per CLI invocation."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> LifecycleClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, body=body if body is not None else {})

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("PATCH", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=body)
        except httpx.TimeoutException:
            raise ApiUnreachable(self.url, f"no answer within {self.timeout:g}s") from None
        except httpx.TransportError as error:
            raise ApiUnreachable(self.url, _transport_reason(error)) from None
        if response.is_success:
            return _json_or_none(response, self.url)
        raise _error_from(response)


def _transport_reason(error: httpx.TransportError) -> str:
    text = str(error).strip() or type(error).__name__
    text = _ERRNO.sub("", text.splitlines()[0])
    return text[:1].lower() + text[1:]


def _json_or_none(response: httpx.Response, url: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ApiUnreachable(
            url, f"the answer to {response.request.url.path} is not JSON; is this the API?"
        ) from None


def _error_from(response: httpx.Response) -> ApiError:
    """The API's error body when there is one; otherwise (a proxy, a load balancer, another
    service on that port) an error of the same shape that says what came back."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict) and isinstance(detail.get("rule"), str):
        fields = detail.get("fields")
        return ApiError(
            status=status,
            rule=detail["rule"],
            message=str(detail.get("message", "")),
            fields=fields if isinstance(fields, list) else [],
            body=body,
        )
    phrase = response.reason_phrase or "error"
    snippet = " ".join(response.text.split())[:120]
    message = f"{phrase}: {snippet}" if snippet else phrase
    return ApiError(status=status, rule=f"http.{status}", message=message)
