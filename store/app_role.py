"""Connections that act as the restricted application role ``lifecycle_app``.

The role may read the log and call ``append_events()``; it holds no INSERT, UPDATE, DELETE or
TRUNCATE on ``events``. We make connections *log in* as that role rather than log in as a
powerful user and ``SET ROLE``: any code holding the connection could undo a ``SET ROLE`` with
``RESET ROLE`` or ``SET ROLE <owner>``, whereas the session user of a connection can never be
changed by the client. So a bug or injected SQL in the application runs
with the application's privileges and nothing more.

On the embedded server authentication is ``trust``, so the role needs no password. Against a
managed Postgres, give ``lifecycle_app`` a password (or certificate) and pass it here.

Pool hygiene: by default asyncpg sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
RESET ALL`` each time a connection goes back to the pool, an extra round trip that costs about as
much as an append itself. This pool only rolls back an unfinished transaction (asyncpg always
does) and skips that query, like psycopg's pool. The contract for code using it: leave no session
state behind (use ``SET LOCAL`` inside a transaction, transaction-scoped advisory locks, and a
dedicated connection for ``LISTEN``), or pass ``full_reset=True``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from store.dsn import user_of, with_user
from store.errors import EventStoreError

APP_ROLE = "lifecycle_app"

_CHECK_ROLE = """
SELECT session_user::text AS session_user, current_user::text AS current_user,
       r.rolsuper, r.rolbypassrls
  FROM pg_catalog.pg_roles r
 WHERE r.rolname = session_user
"""


async def _check_role(conn: asyncpg.Connection, role: str) -> None:
    row = await conn.fetchrow(_CHECK_ROLE)
    if row is None or row["session_user"] != role or row["current_user"] != role:
        raise EventStoreError(f"connection is not running as {role!r}")
    if row["rolsuper"] or row["rolbypassrls"]:
        raise EventStoreError(f"role {role!r} must not be a superuser or bypass row security")


async def _rollback_only(conn: asyncpg.Connection) -> None:
    """Nothing beyond asyncpg's own rollback of an open transaction (see module docstring)."""


async def create_app_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    role: str = APP_ROLE,
    password: str | None = None,
    full_reset: bool = False,
    **pool_kwargs: Any,
) -> asyncpg.Pool:
    """An asyncpg pool whose every connection logs in as ``role`` on the DSN's server/database.

    The DSN's own user and password are replaced (they belong to a more powerful user) unless
    the DSN already names ``role``. Each new connection is checked to really be that role and
    not a superuser, so a misconfigured deployment fails at start rather than running with
    privileges that would let it rewrite history.
    """
    if user_of(dsn) != role or password is not None:
        dsn = with_user(dsn, role, password)

    async def init(conn: asyncpg.Connection) -> None:
        await _check_role(conn, role)

    if not full_reset:
        pool_kwargs.setdefault("reset", _rollback_only)
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        server_settings={"application_name": "lifecycle"},
        **pool_kwargs,
    )
    return pool


async def set_app_role_password(dsn: str, password: str, *, role: str = APP_ROLE) -> None:
    """Give the application role a password, as the migrating (owning) user.

    The embedded server trusts local logins, so it needs none; a managed Postgres asks for one
    (LIFECYCLE_APP_DB_PASSWORD). The statement is built by the server's own `format(%L)`, so
    the password is quoted by Postgres rather than by string pasting here.
    """
    conn = await asyncpg.connect(dsn)
    try:
        statement = await conn.fetchval(
            "SELECT format('ALTER ROLE %I WITH PASSWORD %L', $1::text, $2::text)", role, password
        )
        await conn.execute(statement)
    finally:
        await conn.close()
