"""A managed Postgres asks the application role for a password; the owner sets it."""

import asyncpg

from runtime.settings import Settings
from worker import open_app_pool


async def test_a_configured_password_is_set_on_the_application_role(database_dsn: str) -> None:
    settings = Settings.model_validate({"LIFECYCLE_APP_DB_PASSWORD": "it's s3cret"})

    pool = await open_app_pool(settings, database_dsn)
    try:
        role = await pool.fetchval("SELECT current_user")
    finally:
        await pool.close()

    owner = await asyncpg.connect(database_dsn)
    try:
        has_password = await owner.fetchval(
            "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'lifecycle_app'"
        )
        await owner.execute("ALTER ROLE lifecycle_app WITH PASSWORD NULL")
    finally:
        await owner.close()
    assert role == "lifecycle_app"
    assert has_password
