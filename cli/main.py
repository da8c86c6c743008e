"""The `lifecycle` command."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from domain.playbook import PlaybookInvalid
from runtime.log_setup import configure_logging
from runtime.settings import Settings

app = typer.Typer(help="Product lifecycle: stage gates, sign-offs and an auditable trail.")
playbook_app = typer.Typer(help="Check and show playbooks.")
app.add_typer(playbook_app, name="playbook")
stdout = Console()
stderr = Console(stderr=True)


@app.command()
def dev(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where all state lives (default ./.lifecycle).")
    ] = None,
    temporal_port: Annotated[int, typer.Option(help="Temporal frontend port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal UI port.")] = 8233,
    api_port: Annotated[int | None, typer.Option(help="API port (default 8000).")] = None,
) -> None:
    """Start everything on this machine: Temporal dev server, embedded Postgres, worker."""
    from runtime.dev_stack import DevStackInfo, run_dev_stack

    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    if api_port is not None:
        settings = settings.model_copy(update={"api_port": api_port})
    configure_logging(settings.log_level)

    def announce(info: DevStackInfo) -> None:
        stdout.print("[bold green]lifecycle is running[/] (Ctrl-C stops everything)")
        for label, value in (
            ("API", info.api_url),
            ("admin token", info.admin_token),
            ("data directory", str(info.data_dir)),
            ("Temporal address", info.temporal_address),
            ("Temporal UI", info.temporal_ui_url),
            ("DATABASE_URL", info.database_url),
            ("task queue", info.task_queue),
        ):
            stdout.print(f"  [bold]{label}:[/] {value}", soft_wrap=True, highlight=False)

    asyncio.run(
        run_dev_stack(settings, temporal_port=temporal_port, ui_port=ui_port, announce=announce)
    )
    stderr.print("lifecycle stopped")


@app.command()
def worker() -> None:
    """Run a worker against DATABASE_URL and TEMPORAL_ADDRESS (scale by running more)."""
    from worker import main

    main()


@playbook_app.command("check")
def playbook_check(path: Path) -> None:
    """Validate a playbook file; print its stages and gates, or every problem found."""
    from playbooks import load_playbook_file

    try:
        playbook = load_playbook_file(path)
    except PlaybookInvalid as error:
        stderr.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from None
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
    stdout.print(table)
    stdout.print(f"fingerprint {playbook.fingerprint()}")
