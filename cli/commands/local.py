"""Commands that run on this machine rather than against the API: the dev stack, a worker,
and the playbook checker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.session import (
    EXIT_REFUSED,
    OutputFormat,
    OutputOption,
    config_of,
    one_line,
    print_json,
)

if TYPE_CHECKING:
    from domain.playbook import PlaybookInvalid
    from runtime.dev_stack import DevStackInfo

playbook_app = typer.Typer(help="Check and show playbooks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("dev")(dev)
    app.command("worker")(worker)
    app.add_typer(playbook_app, name="playbook")


def dev(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where all state lives (default ./.lifecycle).")
    ] = None,
    temporal_port: Annotated[int, typer.Option(help="Temporal frontend port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal UI port.")] = 8233,
    api_port: Annotated[int | None, typer.Option(help="API port (default 8000).")] = None,
    demo: Annotated[
        bool, typer.Option(help="Seed a demo portfolio: people in every role, pending reviews.")
    ] = False,
    output: OutputOption = None,
) -> None:
    """Start everything on this machine: Temporal dev server, embedded Postgres, worker, API.

    With --output json, prints one line of JSON (the addresses and the admin token) once ready.
    """
    from runtime.dev_stack import PortInUse, run_dev_stack
    from runtime.embedded_temporal import TemporalNotStarted
    from runtime.log_setup import configure_logging
    from runtime.notification_routes import NotificationRoutesError
    from runtime.settings import Settings

    as_json = (output or config_of(ctx).output) is OutputFormat.JSON
    stdout, stderr = Console(), Console(stderr=True)
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    if api_port is not None:
        settings = settings.model_copy(update={"api_port": api_port})
    configure_logging(settings.log_level, fmt=settings.log_format)

    def announce(info: DevStackInfo) -> None:
        facts = (
            ("API", info.api_url),
            ("admin token", info.admin_token),
            ("data directory", str(info.data_dir)),
            ("Temporal address", info.temporal_address),
            ("Temporal UI", info.temporal_ui_url),
            ("DATABASE_URL", info.database_url),
            ("task queue", info.task_queue),
        )
        if as_json:
            keys = (
                *("api_url", "admin_token", "data_dir", "temporal_address"),
                *("temporal_ui_url", "database_url", "task_queue"),
            )
            announced: dict[str, Any] = {k: v for k, (_, v) in zip(keys, facts, strict=True)}
            announced["demo_people"] = [
                {"subject": p.actor.subject, "roles": list(p.actor.roles), "token": p.token}
                for p in info.demo_people
            ]
            typer.echo(json.dumps(announced))
            return
        stdout.print("[bold green]lifecycle is running[/] (Ctrl-C stops everything)")
        for label, value in facts:
            stdout.print(f"  [bold]{label}:[/] {value}", soft_wrap=True, highlight=False)
        if info.demo_people:
            stdout.print("[bold]demo people[/] (export LIFECYCLE_TOKEN=<token> to act as one):")
            for person in info.demo_people:
                stdout.print(
                    f"  {person.actor.display_name} ({', '.join(person.actor.roles)}): "
                    f"{person.token}",
                    soft_wrap=True,
                    highlight=False,
                )

    try:
        asyncio.run(
            run_dev_stack(
                settings,
                temporal_port=temporal_port,
                ui_port=ui_port,
                announce=announce,
                demo=demo,
            )
        )
    except (PortInUse, TemporalNotStarted, NotificationRoutesError) as error:
        stderr.print(Text(f"lifecycle dev cannot start: {error}", style="red"), soft_wrap=True)
        raise typer.Exit(code=EXIT_REFUSED) from None
    stderr.print("lifecycle stopped")


def worker() -> None:
    """Run a worker against DATABASE_URL and TEMPORAL_ADDRESS (scale by running more).

    It prints nothing on stdout; logs go to stderr (JSON lines when not on a terminal)."""
    from worker import main

    main()


@playbook_app.command("check")
def playbook_check(ctx: typer.Context, path: Path, output: OutputOption = None) -> None:
    """Validate a playbook file; print its stages and gates, or every problem found."""
    from domain.playbook import PlaybookInvalid
    from playbooks import load_playbook_file

    as_json = (output or config_of(ctx).output) is OutputFormat.JSON
    try:
        playbook = load_playbook_file(path)
    except PlaybookInvalid as error:
        if as_json:
            print_json(_invalid_body(error))
            problems = f"playbook {error.source} is invalid: {len(error.problems)} problem(s)"
            Console(stderr=True).print(Text(problems, style="red"), soft_wrap=True)
        else:
            Console(stderr=True).print(Text(str(error), style="red"), soft_wrap=True)
        raise typer.Exit(code=EXIT_REFUSED) from None
    if as_json:
        print_json(
            {
                "valid": True,
                "fingerprint": playbook.fingerprint(),
                "playbook": playbook.model_dump(mode="json"),
            }
        )
        return
    table = Table(title=f"{playbook.title} ({playbook.name} v{playbook.version})")
    for column in ("stage", "exit gate", "evidence", "checklist", "metrics", "sign-offs"):
        table.add_column(column)
    for definition in playbook.stages:
        gate = definition.exit_gate
        if gate is None:
            table.add_row(definition.stage.value, "-", "", "", "", "")
            continue
        table.add_row(
            definition.stage.value,
            gate.title,
            str(len(gate.evidence)),
            str(len(gate.checklist)),
            str(len(gate.metrics)),
            ", ".join(f"{s.min_approvals}x {s.role}" for s in gate.sign_offs) or "-",
        )
    stdout = Console()
    stdout.print(table)
    stdout.print(f"fingerprint {playbook.fingerprint()}")


def _invalid_body(error: PlaybookInvalid) -> dict[str, Any]:
    """The API's error shape, so scripts read a bad playbook like any other refusal."""
    fields = []
    for problem in error.problems:
        location, _, message = str(problem).partition(": ")
        fields.append({"location": location, "message": message or location})
    return {
        "error": {
            "status": None,
            "rule": "playbook.invalid",
            "message": one_line(
                f"playbook {error.source} is invalid: " + "; ".join(error.problems)
            ),
            "fields": fields,
        }
    }
