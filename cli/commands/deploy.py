"""Commands a deployment runs: the API server alone and the schema migrations alone (the
worker is `lifecycle worker`). They read the same settings as everything else; a bad value
stops them before they start, naming the variable."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from cli.session import EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from runtime.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("api")(api)
    app.command("migrate")(migrate)


def api() -> None:
    """Serve the HTTP API against DATABASE_URL and TEMPORAL_ADDRESS (scale by running more).

    Binds LIFECYCLE_API_HOST:LIFECYCLE_API_PORT; logs go to stderr (JSON lines off a terminal)."""
    from runtime.api_process import run_api
    from runtime.log_setup import configure_logging
    from worker import TemporalConfigError
    from workflows.visibility import SearchAttributesMissing

    settings, database_url = _settings_with_database("the API")
    configure_logging(settings.log_level, fmt=settings.log_format)
    try:
        asyncio.run(run_api(settings, database_url))
    except (SearchAttributesMissing, TemporalConfigError) as error:
        typer.echo(f"lifecycle api cannot start: {error}", err=True)
        raise typer.Exit(code=EXIT_REFUSED) from None


def migrate() -> None:
    """Apply the event store's schema migrations to DATABASE_URL, then exit (0: up to date)."""
    from runtime.log_setup import configure_logging
    from store.migrations import migrate as apply_migrations

    settings, database_url = _settings_with_database("migrate")
    configure_logging(settings.log_level, fmt=settings.log_format)
    asyncio.run(apply_migrations(database_url))
    typer.echo("migrations applied", err=True)


def _settings_with_database(what: str) -> tuple[Settings, str]:
    from runtime.settings import Settings, settings_problems

    try:
        settings = Settings()
    except ValidationError as error:
        for problem in settings_problems(error):
            typer.echo(f"{problem['location']}: {problem['message']}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
    if settings.database_url is None:
        typer.echo(f"DATABASE_URL is not set: {what} needs a PostgreSQL", err=True)
        raise typer.Exit(code=EXIT_USAGE)
    return settings, settings.database_url
