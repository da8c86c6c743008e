"""The application's role can append and read, and cannot rewrite history; nor can the owner
without deliberately switching the guard off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from store.dsn import with_user
from store.errors import EventStoreError
from store.event_store import EventStore
from store.migrations import APP_ROLE, create_app_pool
from tests.store.factories import new_events


@pytest_asyncio.fixture(loop_scope="session")
async def with_events(event_store: EventStore) -> EventStore:
    await event_store.append("p", 0, new_events(3))
    return event_store


@pytest_asyncio.fixture(loop_scope="session")
async def owner(database_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def test_pool_connections_are_the_app_role_and_cannot_become_another(
    app_pool: asyncpg.Pool,
) -> None:
    async with app_pool.acquire() as conn:
        row = await conn.fetchrow("SELECT session_user::text AS s, current_user::text AS c")
        assert row is not None
        assert (row["s"], row["c"]) == (APP_ROLE, APP_ROLE)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE postgres")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET SESSION AUTHORIZATION postgres")
        await conn.execute("RESET ROLE")
        assert await conn.fetchval("SELECT current_user::text") == APP_ROLE


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 3",
        "TRUNCATE events",
        "INSERT INTO events SELECT position + 100, stream_id, stream_version + 100,"
        " gen_random_uuid(), type, schema_version, data, metadata, recorded_at, prev_hash, hash"
        " FROM events WHERE position = 1",
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "DROP TABLE events",
        "CREATE OR REPLACE FUNCTION append_events() RETURNS void LANGUAGE sql AS ''",
    ],
)
async def test_app_role_is_refused_anything_but_append_and_read(
    with_events: EventStore, app_pool: asyncpg.Pool, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute(statement)
    assert [e.position for e in await with_events.read_all()] == [1, 2, 3]


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE events SET data = '{}' WHERE position = 1", "UPDATE"),
        ("DELETE FROM events WHERE position = 3", "DELETE"),
        ("TRUNCATE events", "TRUNCATE"),
    ],
)
async def test_even_the_owner_is_refused_by_the_append_only_triggers(
    with_events: EventStore, owner: asyncpg.Connection, statement: str, operation: str
) -> None:
    with pytest.raises(asyncpg.PostgresError, match=f"append-only: {operation}") as caught:
        await owner.execute(statement)
    assert caught.value.sqlstate == "LC004"
    assert len(await with_events.read_all()) == 3


async def test_create_app_pool_refuses_a_role_that_could_rewrite_history(
    database_dsn: str,
) -> None:
    with pytest.raises(EventStoreError, match="superuser"):
        await create_app_pool(with_user(database_dsn, "postgres"), role="postgres")


async def test_create_app_pool_logs_in_as_the_app_role_whatever_the_dsn_user(
    database_dsn: str,
) -> None:
    assert "postgres" in database_dsn
    pool = await create_app_pool(database_dsn, min_size=1, max_size=1)
    try:
        assert await pool.fetchval("SELECT session_user::text") == APP_ROLE
    finally:
        await pool.close()


async def test_pool_keeps_no_open_transaction_between_users(database_dsn: str) -> None:
    """The light reset still rolls back what a careless user left open."""
    pool = await create_app_pool(database_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute("CREATE TEMP TABLE scratch (x int)")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.scratch')") is None
    finally:
        await pool.close()
