"""Small edits to ``postgresql://`` connection URIs.

Tests make a database per test and the application connects as its own role, both starting
from one configured DSN; these helpers derive the variants without string surgery at each site.
Unix-socket DSNs (``postgresql://user:@/db?host=/path``, as the embedded server gives) are kept
intact.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_SCHEMES = ("postgresql", "postgres")


def _split(dsn: str) -> tuple[str, str, str, str, str]:
    parts = urlsplit(dsn)
    if parts.scheme not in _SCHEMES:
        raise ValueError("expected a postgresql:// connection URI")
    return parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment


def database_of(dsn: str) -> str:
    """The database a DSN names (libpq defaults it to the user name when absent)."""
    _, _, path, query, _ = _split(dsn)
    name = unquote(path.lstrip("/"))
    if name:
        return name
    params = dict(parse_qsl(query))
    return params.get("dbname") or user_of(dsn) or "postgres"


def user_of(dsn: str) -> str | None:
    _, netloc, _, query, _ = _split(dsn)
    userinfo, at, _ = netloc.rpartition("@")
    if at and userinfo:
        return unquote(userinfo.partition(":")[0]) or None
    return dict(parse_qsl(query)).get("user")


def with_database(dsn: str, database: str) -> str:
    scheme, netloc, _, query, fragment = _split(dsn)
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "dbname"]
    path = "/" + quote(database, safe="")
    return urlunsplit((scheme, netloc, path, urlencode(params, safe="/"), fragment))


def with_user(dsn: str, user: str, password: str | None = None) -> str:
    """Replace the user and drop the old password (it belonged to the other user)."""
    scheme, netloc, path, query, fragment = _split(dsn)
    hostport = netloc.rpartition("@")[2]
    credentials = quote(user, safe="")
    if password is not None:
        credentials += ":" + quote(password, safe="")
    params = [
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("user", "password")
    ]
    netloc = f"{credentials}@{hostport}"
    return urlunsplit((scheme, netloc, path, urlencode(params, safe="/"), fragment))
