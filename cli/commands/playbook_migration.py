"""`lifecycle playbook migrate`: move running products to the installed playbook version.

A dry run unless `--apply`: it lists each product on an older version with the criteria of its
current gate that would change, and whether its gatekeeper rules would accept the move from you.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli import render
from cli.client import segment
from cli.commands.local import playbook_app
from cli.session import EXIT_REFUSED, OutputOption, session

_OUTCOME_STYLE = {
    "would_apply": "green",
    "applied": "bold green",
    "would_be_refused": "yellow",
    "refused": "bold red",
}


def register(app: typer.Typer) -> None:
    """Hangs the command off the `playbook` group that `cli.commands.local` adds to `app`."""
    playbook_app.command("migrate")(playbook_migrate)


def _changes(changes: list[dict[str, Any]]) -> Text:
    if not changes:
        return render.text("no criterion changes", "dim")
    lines = []
    for change in changes:
        kind, title = change.get("change"), change.get("title")
        if kind == "added":
            lines.append(f"+ {title}: {change.get('after')}")
        elif kind == "removed":
            lines.append(f"- {title}: {change.get('before')}")
        else:
            lines.append(f"~ {title}: {change.get('before')} → {change.get('after')}")
    return render.text("\n".join(lines))


def _report(console: Console, body: dict[str, Any]) -> None:
    products: list[dict[str, Any]] = body.get("products") or []
    target = f"{body.get('playbook')} v{body.get('to_version')}"
    if not products:
        console.print(render.text(f"every active product already runs {target}"))
        return
    table = render.new_table("product", "stage", "from", "outcome", "criteria of the current gate")
    for item in products:
        outcome = str(item.get("outcome"))
        shown = render.text(outcome.replace("_", " "), _OUTCOME_STYLE.get(outcome, ""))
        if item.get("rule"):
            shown = Text.assemble(
                shown, "\n", render.text(f"{item['rule']}: {item.get('message')}")
            )
        table.add_row(
            render.text(item.get("product_id"), "bold"),
            render.text(item.get("stage")),
            render.text(f"v{item.get('from_version')}"),
            shown,
            _changes(item.get("changes") or []),
        )
    table.title = render.text(f"Moving to {target} ({body.get('effective')})", "bold")
    console.print(table)
    remaining = body.get("remaining") or 0
    if remaining:
        console.print(
            render.text(
                f"{remaining} more product(s) wait beyond the {len(products)} above: "
                f"run again with --after {body.get('next_after')}",
                "yellow",
            )
        )
    if body.get("dry_run"):
        console.print(render.text("dry run: nothing changed; add --apply to migrate", "dim"))


def playbook_migrate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The playbook's name.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why, for the audit trail.", show_default=False)
    ],
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Migrate at once (closes open reviews) instead of at each product's next stage.",
        ),
    ] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Change the products (default: dry run).")
    ] = False,
    products: Annotated[
        list[str] | None,
        typer.Option("--product", help="Only this product (repeatable).", show_default=False),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            help="Only products whose id sorts after this one (the next_after of a long run).",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Show, then apply with --apply, moving products to the installed version of NAME."""
    request: dict[str, Any] = {
        "reason": reason,
        "effective": "now" if now else "next_stage",
        "apply": apply,
    }
    if products:
        request["products"] = products
    if after:
        request["after"] = after
    with session(ctx, output) as s:
        body = s.client.post(f"/playbooks/{segment(name)}/migrations", request)
        s.emit(body, lambda console: _report(console, body))
        if apply and any(p.get("outcome") == "refused" for p in body.get("products") or []):
            raise typer.Exit(code=EXIT_REFUSED)
