"""Where a state-changing form may come from, including behind a reverse proxy.

A browser names the page a POST comes from in `Origin`; the pages refuse one from another site.
Served directly, that origin's host is the request's `Host`. Behind a reverse proxy that
terminates TLS or rewrites `Host` (to the upstream's `api:8000`), it is not, so the origin people
reach the pages at is configured (`LIFECYCLE_PUBLIC_ORIGIN`) and accepted as well. Only an
origin named here or matching `Host` passes; forwarded headers are not trusted, since anyone can
send them when the proxy does not overwrite them.
"""

from urllib.parse import urlsplit

from starlette.requests import Request

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalized_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port; None if it is no origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    shown_port = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def public_origin(value: str) -> str:
    """The configured public origin, checked at start-up so a typo fails loudly, not every form."""
    origin = normalized_origin(value)
    if origin is None:
        raise ValueError(
            f"LIFECYCLE_PUBLIC_ORIGIN must be an origin like https://lifecycle.example.com "
            f"(scheme, host and optional port; no path), not {value!r}"
        )
    return origin


def same_origin(request: Request, public: str | None = None) -> bool:
    """Whether a POST comes from these pages. Requests without Origin (older browsers, some
    privacy settings) rely on the CSRF token alone; the opaque origin "null" is refused."""
    sent = request.headers.get("origin")
    if sent is None:
        return True
    origin = normalized_origin(sent)
    if origin is None:
        return False
    if public is not None and origin == public:
        return True
    host = request.headers.get("host", "").lower()
    authority = origin.split("://", 1)[1]
    scheme = origin.split("://", 1)[0]
    return host in (authority, f"{authority}:{_DEFAULT_PORTS[scheme]}")
