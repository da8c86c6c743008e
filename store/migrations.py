"""Versioned SQL migrations for the store's database.

Files are ``store/migrations/NNNN_name.sql``, applied in version order, each in its own
transaction together with its row in ``schema_migrations``, so a failed file leaves no trace and
is retried next time. A session advisory lock lets several processes (workers and API starting
together) call ``migrate`` at once: one applies, the others wait and then find nothing to do.

A file's SHA-256 is recorded when applied; if an applied file later changes, ``migrate`` refuses
to go on, because the database no longer matches what the code believes it ran. Add a new file
instead of editing an applied one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import asyncpg

from store.app_role import APP_ROLE, create_app_pool
from store.errors import EventStoreError

__all__ = [
    "APP_ROLE",
    "Migration",
    "MigrationError",
    "create_app_pool",
    "load_migrations",
    "migrate",
]

_log = logging.getLogger(__name__)

MIGRATION_LOCK = (1818846821, 2)
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(EventStoreError):
    """The migration files and the database disagree in a way a person must resolve."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(directory: Path | Traversable | None = None) -> list[Migration]:
    """Read migration files in version order; other files in the directory are ignored."""
    folder = directory if directory is not None else resources.files("store") / "migrations"
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files have version {version:04d}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


async def migrate(dsn: str, *, directory: Path | Traversable | None = None) -> list[int]:
    """Apply pending migrations; returns the versions applied by this call (empty if none)."""
    migrations = load_migrations(directory)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1, $2)", *MIGRATION_LOCK)
        try:
            return await _apply_pending(conn, migrations)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", *MIGRATION_LOCK)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection, migrations: list[Migration]) -> list[int]:
    await conn.execute(_CREATE_LEDGER)
    rows = await conn.fetch("SELECT version, name, checksum FROM public.schema_migrations")
    applied = {row["version"]: row for row in rows}
    for migration in migrations:
        row = applied.get(migration.version)
        if row is not None and row["checksum"] != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was applied with a "
                "different content; add a new migration instead of editing an applied one"
            )
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        _log.info("applying migration %04d_%s", migration.version, migration.name)
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO public.schema_migrations (version, name, checksum) "
                "VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration.version)
    return done
