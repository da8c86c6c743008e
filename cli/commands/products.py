"""Products: register one, read the portfolio, a product, its decision trail and your inbox.

`register` adds every product command group to the app, in help order; what a gate asks for
(evidence, checklist, metrics) is in `evidence`, reviews, sign-offs and decisions in `gates`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.commands import evidence, gates
from cli.commands.common import ProductArg, product_path
from cli.session import OutputOption, session, usage_error
from cli.views import approvals as approvals_view
from cli.views import product as product_view
from cli.views import trail as trail_view
from domain.stages import Stage

product_app = typer.Typer(help="Register, list and show products.", no_args_is_help=True)
audit_app = typer.Typer(help="The decision trail.", no_args_is_help=True)

TRAIL_PAGE_MAX = 500


class StatusChoice(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    KILLED = "killed"


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    app.add_typer(evidence.evidence_app, name="evidence")
    app.add_typer(evidence.checklist_app, name="checklist")
    app.add_typer(evidence.metric_app, name="metric")
    app.add_typer(gates.gate_app, name="gate")
    app.add_typer(gates.condition_app, name="condition")
    app.add_typer(audit_app, name="audit")
    app.command("approvals")(approvals)


# -- product ------------------------------------------------------------------------------------


@product_app.command("create")
def product_create(
    ctx: typer.Context,
    product_id: ProductArg,
    name: Annotated[str, typer.Option(help="Printed name.")],
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    owner: Annotated[
        str | None, typer.Option(help="Owner's subject (default: you).", show_default=False)
    ] = None,
    playbook: Annotated[str, typer.Option(help="Installed playbook to run under.")] = "default",
    output: OutputOption = None,
) -> None:
    """Register a product; it starts in discovery."""
    with session(ctx, output) as s:
        body = s.client.post(
            "/products",
            {
                "id": product_id,
                "name": name,
                "description": description,
                "owner": owner,
                "playbook": playbook,
            },
        )
        s.emit(
            body, lambda c: product_view.receipt(c, f"registered under playbook '{playbook}'", body)
        )


@product_app.command("list")
def product_list(
    ctx: typer.Context,
    stage: Annotated[Stage | None, typer.Option(help="Only products in this stage.")] = None,
    status: Annotated[StatusChoice | None, typer.Option(help="active, retired or killed.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only products this subject owns.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    output: OutputOption = None,
) -> None:
    """The portfolio, filtered."""
    with session(ctx, output) as s:
        params: dict[str, Any] = {
            "stage": stage.value if stage else None,
            "status": status.value if status else None,
            "owner": owner,
            "limit": limit,
            "offset": offset,
        }
        body = s.client.get("/products", params)
        found = body.get("products", [])

        def show(console: Console) -> None:
            product_view.product_list(console, found)
            if len(found) == limit:
                more = f"more may follow: lifecycle product list --offset {offset + limit} ..."
                console.print(render.text(more, "dim"))

        s.emit(body, show)


@product_app.command("show")
def product_show(ctx: typer.Context, product_id: ProductArg, output: OutputOption = None) -> None:
    """State, the current gate with every criterion (pass/fail and reason), the review: who
    signed, who is missing, when it is due; why the gate is blocked, hold and conditions."""
    with session(ctx, output) as s:
        body = s.client.get(product_path(product_id))
        s.emit(body, lambda c: product_view.product_detail(c, body))


# -- audit, approvals ---------------------------------------------------------------------------


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    product_id: ProductArg,
    after: Annotated[int, typer.Option(min=0, help="Start after this stream version.")] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, max=TRAIL_PAGE_MAX, help="Events per page (default 50).", show_default=False
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every event, fetching all pages.")] = False,
    output: OutputOption = None,
) -> None:
    """The decision trail: who did what, when, in which role, and why."""
    if every and limit is not None:
        raise usage_error("--all fetches every page; leave out --limit", "--all/--limit")
    path = product_path(product_id, "events")
    with session(ctx, output) as s:
        if every:
            events: list[Any] = []
            cursor: int | None = after
            while cursor is not None:
                page = s.client.get(path, {"after": cursor, "limit": TRAIL_PAGE_MAX})
                events.extend(page.get("events", []))
                cursor = page.get("next_after")
            body: dict[str, Any] = {"product_id": product_id, "events": events, "next_after": None}
        else:
            body = s.client.get(path, {"after": after, "limit": limit})

        def show(console: Console) -> None:
            trail_view.trail(console, product_id, body.get("events", []))
            if body.get("next_after") is not None:
                console.print(
                    render.text(
                        f"more: lifecycle audit log {product_id} --after {body['next_after']}"
                        " (or --all)",
                        "dim",
                    )
                )

        s.emit(body, show)


def approvals(ctx: typer.Context, output: OutputOption = None) -> None:
    """What waits for your sign-off (and for people who delegated to you): overdue first, then
    the oldest request, with its due date."""
    with session(ctx, output) as s:
        body = s.client.get("/approvals")
        s.emit(body, lambda c: approvals_view.approvals(c, body.get("pending", [])))
