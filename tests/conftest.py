"""Fixtures shared by every test layer: one real Postgres per session, a fresh database per test.

* ``postgres_server`` (session): superuser DSN of an embedded Postgres started for this session
  in its own temporary directory, or of the server named by ``LIFECYCLE_TEST_DATABASE_URL``.
  Never the machine's own Postgres: CI machines may not have one.
* ``database_dsn`` (function): superuser DSN of a brand-new database with all migrations
  applied, dropped (``WITH (FORCE)``) after the test. It is cloned from a template migrated
  once per session, which is quicker than migrating each time; ``migrate`` still runs on the
  clone and finds nothing to do.
* ``app_pool`` (function): asyncpg pool on that database acting as ``lifecycle_app``.
* ``event_store`` (function): ``EventStore`` over ``app_pool``.

The async fixtures run on the session event loop (see ``[tool.pytest.ini_options]``), the one
asyncpg pools must be used from.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from store.dsn import with_database
from store.event_store import EventStore
from store.migrations import create_app_pool, migrate

TEST_DATABASE_URL_ENV = "LIFECYCLE_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    external = os.environ.get(TEST_DATABASE_URL_ENV)
    if external:
        yield external
        return
    from runtime.embedded_postgres import start_embedded_postgres

    # Not pytest's tmp_path: pytest resets its base directory to mode 0700 at each session
    # start, which would lock the server's unprivileged system user out of a data directory
    # another session is still using.
    base = Path(tempfile.mkdtemp(prefix="lifecycle-pg-"))
    server = start_embedded_postgres(base / "pgdata")
    try:
        yield server.dsn
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _migrated_template(postgres_server: str) -> AsyncIterator[str]:
    name = f"lifecycle_template_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await migrate(with_database(postgres_server, name))
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def database_dsn(postgres_server: str, _migrated_template: str) -> AsyncIterator[str]:
    name = f"lifecycle_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_migrated_template}"')
        dsn = with_database(postgres_server, name)
        await migrate(dsn)
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def app_pool(database_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_app_pool(database_dsn)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def event_store(app_pool: asyncpg.Pool) -> EventStore:
    return EventStore(app_pool)
