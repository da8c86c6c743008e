"""What a gate asks for: evidence, checklist items and metric readings."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

import typer

from cli import render
from cli.client import segment
from cli.commands.common import ProductArg, product_path
from cli.session import OutputOption, session, usage_error
from cli.views import product as product_view

evidence_app = typer.Typer(help="Evidence for the current gate.", no_args_is_help=True)
checklist_app = typer.Typer(help="Checklist items of the current gate.", no_args_is_help=True)
metric_app = typer.Typer(help="Metric readings (KPIs).", no_args_is_help=True)


# -- evidence, checklist, metrics ---------------------------------------------------------------


@evidence_app.command("add")
def evidence_add(
    ctx: typer.Context,
    product_id: ProductArg,
    requirement: Annotated[str, typer.Argument(help="The gate's evidence key.")],
    title: Annotated[str, typer.Option(help="What this piece of evidence is.")],
    uri: Annotated[str, typer.Option(help="Where it lives.")] = "",
    summary: Annotated[str, typer.Option(help="What it shows.")] = "",
    output: OutputOption = None,
) -> None:
    """Submit evidence toward a requirement of the current gate."""
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "evidence"),
            {"requirement": requirement, "title": title, "uri": uri, "summary": summary},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"evidence added to {requirement}", body))


ItemArg = Annotated[str, typer.Argument(help="The checklist item's key.")]


@checklist_app.command("done")
def checklist_done(
    ctx: typer.Context,
    product_id: ProductArg,
    item: ItemArg,
    note: Annotated[str, typer.Option(help="A note for the record.")] = "",
    output: OutputOption = None,
) -> None:
    """Tick an item (its owner role or the product owner)."""
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "checklist", segment(item)), {"action": "done", "note": note}
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{item} done", body))


@checklist_app.command("reopen")
def checklist_reopen(
    ctx: typer.Context,
    product_id: ProductArg,
    item: ItemArg,
    reason: Annotated[str, typer.Option(help="Why it is not done after all.")],
    output: OutputOption = None,
) -> None:
    """Reopen a ticked item, with a reason."""
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "checklist", segment(item)),
            {"action": "reopen", "note": reason},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{item} reopened", body))


def _observed_at(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise usage_error(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T09:30:00Z)", "--observed-at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without offset is the user's local time
    return moment.isoformat()


@metric_app.command("record")
def metric_record(
    ctx: typer.Context,
    product_id: ProductArg,
    metric: Annotated[str, typer.Argument(help="The playbook's metric key.")],
    value: Annotated[float, typer.Argument(help="The reading (put -- before a negative one).")],
    source: Annotated[str, typer.Option(help="Where the number comes from.")],
    observed_at: Annotated[
        str | None,
        typer.Option(
            help="When it was observed (ISO 8601; without an offset, your local time). "
            "Default: now.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Record a metric reading."""
    if not math.isfinite(value):
        raise usage_error(f"{value} is not a finite number", "VALUE")
    when = _observed_at(observed_at)
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "metrics"),
            {"metric": metric, "value": value, "source": source, "observed_at": when},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{metric} = {render.number(value)}", body))
