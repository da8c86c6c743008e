"""Out-of-office delegations: let someone sign in one of your roles while you are away, list
what you gave and received, revoke one. You are always the one delegating (the token says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import render
from cli.client import segment
from cli.session import OutputOption, session, usage_error

delegation_app = typer.Typer(
    help="Let someone sign in your role while you are away.", no_args_is_help=True
)

_WHEN_HELP = (
    "ISO 8601 date or date and time, e.g. 2026-03-14 or 2026-03-14T18:00+01:00; "
    "without a zone, this machine's local time."
)
_STATE_STYLE = {"active": "green", "scheduled": "cyan", "ended": "dim", "revoked": "red"}


def register(app: typer.Typer) -> None:
    app.add_typer(delegation_app, name="delegation")


def _moment(value: str, option: str) -> str:
    """An ISO 8601 moment for the API, always with its zone (local time when none is given)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise usage_error(
            f"{value!r} is not an ISO 8601 date or date and time (e.g. 2026-03-14T18:00)", option
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # this machine's zone, as a person typing it means
    return moment.isoformat()


def _who(name: object, subject: object) -> str:
    return render.person({"display_name": name, "subject": subject})


def _sentence(item: dict[str, Any]) -> Text:
    return Text.assemble(
        render.text(_who(item.get("delegate_name"), item.get("delegate")), "bold"),
        " signs as ",
        render.text(item.get("role"), "bold"),
        " for ",
        render.text(_who(item.get("principal_name"), item.get("principal"))),
        render.text(
            f" from {render.when(item.get('starts_at'))} until {render.when(item.get('ends_at'))}"
        ),
    )


def _state(item: dict[str, Any]) -> Text:
    state = str(item.get("state"))
    return render.text(state, _STATE_STYLE.get(state, ""))


def _table(title: str, rows: Sequence[dict[str, Any]], other: str) -> Table:
    table = Table(title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.title = render.text(title, "bold")
    for column in ("id", other, "role", "from", "until", "state", "reason"):
        table.add_column(column)
    for item in rows:
        person = (
            _who(item.get("delegate_name"), item.get("delegate"))
            if other == "delegate"
            else _who(item.get("principal_name"), item.get("principal"))
        )
        table.add_row(
            render.text(item.get("delegation_id"), "bold"),
            render.text(person),
            render.text(item.get("role")),
            render.text(render.when(item.get("starts_at"))),
            render.text(render.when(item.get("ends_at"))),
            _state(item),
            render.text(item.get("reason")),
        )
    return table


def _listing(console: Console, body: dict[str, Any], include_past: bool) -> None:
    subject = body.get("subject")
    given, received = body.get("given") or [], body.get("received") or []
    if not given and not received:
        which = "delegations" if include_past else "current or scheduled delegations"
        console.print(render.text(f"no {which} for {subject}"))
        return
    if given:
        console.print(_table(f"Given by {subject}", given, "delegate"))
    if received:
        console.print(_table(f"Received by {subject}", received, "on behalf of"))


@delegation_app.command("grant")
def delegation_grant(
    ctx: typer.Context,
    delegate: Annotated[
        str, typer.Argument(metavar="DELEGATE", help="Subject of the person who signs for you.")
    ],
    role: Annotated[str, typer.Option("--role", help="One of your roles.", show_default=False)],
    until: Annotated[
        str,
        typer.Option("--until", help=f"When it ends (excluded). {_WHEN_HELP}", show_default=False),
    ],
    starts: Annotated[
        str | None,
        typer.Option(
            "--from", help=f"When it begins (default: now). {_WHEN_HELP}", show_default=False
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'parental leave'.")] = "",
    output: OutputOption = None,
) -> None:
    """Let DELEGATE sign in one of your roles, on your behalf, until a moment."""
    request: dict[str, Any] = {
        "delegate": delegate,
        "role": role,
        "ends_at": _moment(until, "--until"),
        "reason": reason,
    }
    if starts is not None:
        request["starts_at"] = _moment(starts, "--from")
    with session(ctx, output) as s:
        body = s.client.post("/delegations", request)

        def show(console: Console) -> None:
            console.print(
                Text.assemble(
                    render.PASS.copy(),
                    " delegation ",
                    render.text(body.get("delegation_id"), "bold"),
                    " (",
                    _state(body),
                    "): ",
                    _sentence(body),
                )
            )
            console.print(
                render.text(
                    f"revoke with: lifecycle delegation revoke {body.get('delegation_id')}", "dim"
                )
            )

        s.emit(body, show)


@delegation_app.command("list")
def delegation_list(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Option(help="Someone else's delegations (admins only).", show_default=False),
    ] = None,
    include_past: Annotated[
        bool, typer.Option("--all", help="Also those that ended or were revoked.")
    ] = False,
    output: OutputOption = None,
) -> None:
    """The delegations you gave and received (current and scheduled, or --all)."""
    with session(ctx, output) as s:
        body = s.client.get(
            "/delegations",
            {"subject": subject, "include_past": "true" if include_past else None},
        )
        s.emit(body, lambda c: _listing(c, body, include_past))


@delegation_app.command("revoke")
def delegation_revoke(
    ctx: typer.Context,
    delegation_id: Annotated[str, typer.Argument(metavar="ID", help="The delegation's id.")],
    output: OutputOption = None,
) -> None:
    """End a delegation now (your own, or anyone's as admin)."""
    with session(ctx, output) as s:
        body = s.client.post(f"/delegations/{segment(delegation_id)}/revoke")

        def show(console: Console) -> None:
            console.print(
                Text.assemble(
                    "revoked delegation ",
                    render.text(body.get("delegation_id"), "bold"),
                    ": ",
                    render.text(_who(body.get("delegate_name"), body.get("delegate"))),
                    " no longer signs as ",
                    render.text(body.get("role")),
                    " for ",
                    render.text(_who(body.get("principal_name"), body.get("principal"))),
                )
            )

        s.emit(body, show)
