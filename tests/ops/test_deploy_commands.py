"""`lifecycle migrate`, the one-shot job a deployment runs before the API and the workers."""

import asyncio
import uuid

import asyncpg
import pytest
from typer.testing import CliRunner

from cli.main import app
from store.dsn import with_database
from store.migrations import load_migrations
from tests.ops.conftest import CapturedLogs


async def _create(server: str, name: str) -> None:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop(server: str, name: str) -> None:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _applied(dsn: str) -> list[int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    return [row["version"] for row in rows]


def test_migrate_applies_every_migration_to_an_empty_database_and_again_is_a_no_op(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch, logs: CapturedLogs
) -> None:
    """(`logs` restores the logging the command configures onto the runner's stderr.)"""
    name = f"lifecycle_migrate_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create(postgres_server, name))
    dsn = with_database(postgres_server, name)
    monkeypatch.setenv("DATABASE_URL", dsn)
    try:
        first = CliRunner().invoke(app, ["migrate"])
        second = CliRunner().invoke(app, ["migrate"])
        applied = asyncio.run(_applied(dsn))
    finally:
        asyncio.run(_drop(postgres_server, name))

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "migrations applied" in first.stderr
    assert applied == [m.version for m in load_migrations()]


def test_migrate_without_a_database_url_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(str(tmp_path))

    result = CliRunner().invoke(app, ["migrate"])

    assert result.exit_code == 2
    assert "DATABASE_URL is not set" in result.stderr
