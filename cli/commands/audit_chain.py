"""`lifecycle audit verify|digest`: prove the log was not altered.

A digest (position and head hash) is what an auditor keeps outside the system; verifying
against it later proves the log still extends it, so neither a truncated tail nor rewritten
history goes unnoticed."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.session import EXIT_REFUSED, OutputOption, session, usage_error

_DIGEST = re.compile(r"^(\d+):([0-9a-f]{64})$")


def register(audit_app: typer.Typer) -> None:
    audit_app.command("verify")(verify)
    audit_app.command("digest")(digest)


def verify(
    ctx: typer.Context,
    against: Annotated[
        str | None,
        typer.Option(help="An earlier digest, POSITION:HASH, that the log must still extend."),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Recompute every hash of the log; exit 1 naming the first bad position if it fails."""
    params: dict[str, Any] = {}
    if against is not None:
        match = _DIGEST.match(against.strip())
        if match is None:
            raise usage_error("a digest looks like 1234:<64 hex characters>", "--against")
        params = {"against_position": int(match[1]), "against_hash": match[2]}
    with session(ctx, output) as s:
        body = s.client.get("/audit/verify", params)
        if not body.get("ok"):
            line = (
                f"the log does not verify: position {body.get('first_bad_position')} "
                f"({body.get('problem')}){': ' + body['detail'] if body.get('detail') else ''}"
            )
            raise s.fail(line, body, EXIT_REFUSED)

        def show(console: Console) -> None:
            console.print(
                render.text(
                    f"OK: {body['events_checked']} events verify; head "
                    f"{body['head_position']}:{body['head_hash']}",
                    "green",
                ),
                soft_wrap=True,
            )

        s.emit(body, show)


def digest(ctx: typer.Context, output: OutputOption = None) -> None:
    """Print POSITION:HASH of the log's head (issued only when the log verifies)."""
    with session(ctx, output) as s:
        body = s.client.get("/audit/digest")
        s.emit(body, lambda console: console.print(f"{body['position']}:{body['hash']}"))
