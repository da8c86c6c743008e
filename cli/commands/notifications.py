"""Notification deliveries that did not happen: list the dead letters and replay one (admins).

`lifecycle notifications dead-letters` lists those not replayed yet (`--all` adds the replayed
ones); `lifecycle notifications replay ID` starts the delivery again under the same
webhook-id, so a receiver that did get it once can ignore the repeat.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli import render
from cli.client import segment
from cli.session import OutputOption, session

notifications_app = typer.Typer(
    help="Notification deliveries: dead letters and their replay.", no_args_is_help=True
)

_REASON_STYLE = {"attempts_exhausted": "red", "rejected": "yellow", "failed": "red"}


def register(app: typer.Typer) -> None:
    app.add_typer(notifications_app, name="notifications")


def _listing(console: Console, letters: list[dict[str, Any]], include_replayed: bool) -> None:
    if not letters:
        which = "dead letters" if include_replayed else "dead letters waiting for a replay"
        console.print(render.text(f"no {which}"))
        return
    table = render.new_table("id", "failed", "endpoint", "kind", "product", "reason", "error")
    if include_replayed:
        table.add_column("replayed")
    for letter in letters:
        note = letter.get("notification") or {}
        reason = str(letter.get("reason"))
        row = [
            render.text(letter.get("dead_letter_id"), "bold"),
            render.text(render.when(letter.get("failed_at"))),
            render.text(letter.get("endpoint")),
            render.text(note.get("kind")),
            render.text(note.get("product_id")),
            render.text(reason, _REASON_STYLE.get(reason, "")),
            render.text(letter.get("error")),
        ]
        if include_replayed:
            replay = letter.get("replay") or {}
            row.append(
                render.text(
                    f"{render.when(replay.get('replayed_at'))} by {replay.get('replayed_by')}"
                    if replay
                    else ""
                )
            )
        table.add_row(*row)
    console.print(table)


@notifications_app.command("dead-letters")
def dead_letters(
    ctx: typer.Context,
    include_replayed: Annotated[
        bool, typer.Option("--all", help="Also those replayed already.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 100,
    output: OutputOption = None,
) -> None:
    """Deliveries refused by their endpoint or out of retries, newest first."""
    with session(ctx, output) as s:
        body = s.client.get(
            "/notifications/dead-letters",
            {"include_replayed": "true" if include_replayed else None, "limit": limit},
        )
        s.emit(body, lambda c: _listing(c, body.get("dead_letters") or [], include_replayed))


@notifications_app.command("replay")
def replay(
    ctx: typer.Context,
    dead_letter_id: Annotated[str, typer.Argument(metavar="ID", help="The dead letter's id.")],
    output: OutputOption = None,
) -> None:
    """Deliver a dead letter again (once); if it fails again, a new dead letter names it."""
    with session(ctx, output) as s:
        body = s.client.post(f"/notifications/dead-letters/{segment(dead_letter_id)}/replay")

        def show(console: Console) -> None:
            letter = body.get("dead_letter") or {}
            started = body.get("replay") or {}
            console.print(
                Text.assemble(
                    render.PASS.copy(),
                    " replaying ",
                    render.text(letter.get("dead_letter_id"), "bold"),
                    " to ",
                    render.text(letter.get("endpoint"), "bold"),
                    render.text(f" as {started.get('workflow_id')}", "dim"),
                )
            )

        s.emit(body, show)
