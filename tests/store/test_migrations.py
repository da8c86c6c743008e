"""The migration runner: ordered, recorded, idempotent, safe to run from two places at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from store.dsn import with_database
from store.migrations import MigrationError, load_migrations, migrate


@pytest_asyncio.fixture(loop_scope="session")
async def empty_dsn(postgres_server: str) -> AsyncIterator[str]:
    """A brand-new database with nothing applied yet."""
    name = f"lifecycle_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(postgres_server, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def applied_versions(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    return [row["version"] for row in rows]


def test_shipped_migrations_are_numbered_uniquely_and_start_with_the_event_store() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
    assert (migrations[0].version, migrations[0].name) == (1, "event_store")


async def test_migrate_applies_everything_once(empty_dsn: str) -> None:
    every = [m.version for m in load_migrations()]
    assert await migrate(empty_dsn) == every
    assert await migrate(empty_dsn) == []
    assert await applied_versions(empty_dsn) == every


async def test_two_processes_migrating_at_once_apply_each_file_once(empty_dsn: str) -> None:
    every = [m.version for m in load_migrations()]
    first, second = await asyncio.gather(migrate(empty_dsn), migrate(empty_dsn))
    assert sorted([first, second], key=len) == [[], every]
    assert await applied_versions(empty_dsn) == every


async def test_files_apply_in_version_order_and_a_failing_one_leaves_no_trace(
    empty_dsn: str, tmp_path: Path
) -> None:
    (tmp_path / "0002_second.sql").write_text("INSERT INTO log VALUES ('second');")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE log (what text);")
    (tmp_path / "0010_broken.sql").write_text(
        "INSERT INTO log VALUES ('broken'); SELECT no_such_function();"
    )
    (tmp_path / "README.md").write_text("not a migration")

    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(empty_dsn, directory=tmp_path)
    assert await applied_versions(empty_dsn) == [1, 2]

    (tmp_path / "0010_broken.sql").write_text("INSERT INTO log VALUES ('fixed');")
    assert await migrate(empty_dsn, directory=tmp_path) == [10]
    conn = await asyncpg.connect(empty_dsn)
    try:
        assert [r["what"] for r in await conn.fetch("SELECT what FROM log")] == [
            "second",
            "fixed",
        ]
    finally:
        await conn.close()


async def test_editing_an_applied_migration_is_refused(empty_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (x int);")
    await migrate(empty_dsn, directory=tmp_path)
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (x bigint);")
    (tmp_path / "0002_second.sql").write_text("CREATE TABLE u (x int);")
    with pytest.raises(MigrationError, match="0001_first"):
        await migrate(empty_dsn, directory=tmp_path)
    assert await applied_versions(empty_dsn) == [1]


def test_duplicate_versions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(MigrationError, match="0001"):
        load_migrations(tmp_path)


async def test_event_store_migration_runs_in_a_second_database_with_the_role_present(
    database_dsn: str, empty_dsn: str
) -> None:
    """The app role is cluster-wide: the second database's migration finds it and goes on."""
    assert 1 in await migrate(empty_dsn)
    conn = await asyncpg.connect(empty_dsn)
    try:
        grants = await conn.fetchval(
            "SELECT array_agg(privilege_type::text ORDER BY privilege_type)"
            " FROM information_schema.role_table_grants"
            " WHERE grantee = 'lifecycle_app' AND table_name = 'events'"
        )
    finally:
        await conn.close()
    assert grants == ["SELECT"]
