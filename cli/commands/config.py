"""`lifecycle config check`: what this machine's environment configures, before anything starts.

An SRE runs it in the container (or with the same environment) to see the effective values,
where each came from, and every bad one named by its variable, without starting a process
that would fail later with a stack trace.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.session import EXIT_USAGE, OutputFormat, OutputOption, config_of, one_line, print_json
from runtime.settings import Settings, env_names, settings_problems

MASK = "********"
config_app = typer.Typer(help="Check this machine's configuration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(ctx: typer.Context, output: OutputOption = None) -> None:
    """Print the effective configuration, secrets masked; exit 2 naming each bad variable."""
    as_json = (output or config_of(ctx).output) is OutputFormat.JSON
    try:
        settings = Settings()
    except ValidationError as error:
        problems = settings_problems(error)
        summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        if as_json:
            print_json(
                {
                    "error": {
                        "status": None,
                        "rule": "config.invalid",
                        "message": one_line(f"the configuration is invalid: {summary}"),
                        "fields": problems,
                    }
                }
            )
        err = Console(stderr=True, highlight=False)
        for problem in problems:
            line = f"{problem['location']}: {problem['message']}"
            err.print(Text(one_line(line), style="red"), soft_wrap=True)
        raise typer.Exit(code=EXIT_USAGE) from None
    rows = effective_configuration(settings)
    if as_json:
        print_json({"valid": True, "settings": rows})
        return
    table = Table(title="lifecycle configuration")
    for column in ("variable", "value", "source"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["variable"], row["value"], row["source"])
    Console(highlight=False).print(table)


def effective_configuration(settings: Settings) -> list[dict[str, str]]:
    """One row per setting: its variable, its value (secrets masked), and where it came from."""
    from_file = _dotenv(Path(".env"))
    rows = []
    for name, field in Settings.model_fields.items():
        names = env_names(field)
        if any(n in os.environ for n in names):
            source = "environment"
        elif any(n in from_file for n in names):
            source = ".env"
        else:
            source = "default"
        value = getattr(settings, name)
        rows.append({"variable": names[0], "value": _shown(name, value, source), "source": source})
    return rows


def _shown(name: str, value: Any, source: str) -> str:
    if isinstance(value, SecretStr):
        if name == "session_secret" and source == "default":
            return "(random per start)"
        return MASK
    if value is None:
        return "(unset)"
    return str(value)


def _dotenv(path: Path) -> dict[str, str | None]:
    return dict(dotenv_values(path)) if path.is_file() else {}
