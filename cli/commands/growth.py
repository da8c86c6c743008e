"""Launch, growth and sunset: the dated GTM checklist, launch goals, experiments and the
sunset plan, through the API."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.commands.common import ProductArg, product_path
from cli.session import OutputOption, session, usage_error
from cli.views import product as product_view

launch_app = typer.Typer(
    help="The launch: GTM checklist, launch date and goals.", no_args_is_help=True
)
growth_app = typer.Typer(help="Growth: KPI reviews and experiments.", no_args_is_help=True)
sunset_app = typer.Typer(
    help="Sunset: the plan and the end-of-life schedule.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(launch_app, name="launch")
    app.add_typer(growth_app, name="growth")
    app.add_typer(sunset_app, name="sunset")


def _moment(value: str, option: str) -> str:
    """An ISO 8601 date or time; without an offset it is the user's local time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise usage_error(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2027-03-01)", option
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.isoformat()


def _plans(console: Console, body: dict[str, Any]) -> None:
    launch = body.get("launch")
    if launch:
        table = render.new_table("item", "owner", "due", "state")
        table.title = f"GTM checklist for the launch on {render.when(launch['launch_at'])}"
        for item in launch["items"]:
            state = f"done by {item['done_by']}" if item["done"] else "open"
            if item["overdue"]:
                state = f"OVERDUE (reminded {item['reminders']}x)"
            table.add_row(item["title"], item["owner_role"], render.when(item["due_at"]), state)
        console.print(table)
    for goal in body.get("launch_goals", []):
        console.print(
            f"goal: {goal['kind']} {goal['metric']} {goal['comparison']} "
            f"{render.number(goal['target'])} by {render.when(goal['due_by'])}"
        )
    kpis = body.get("kpis") or {}
    if kpis.get("started_at"):
        console.print(
            f"KPI reviews: {kpis['reviews']} so far; next {render.when(kpis['next_review_at'])}"
        )
        for result in kpis.get("last_results", []):
            console.print(f"  {result['status']}: {result['reason']}")
    sunset = body.get("sunset")
    if sunset:
        console.print(f"end of life {render.when(sunset['end_of_life'])}: {sunset['reason']}")
        for message in sunset["communications"]:
            sent = "sent" if message.get("sent_at") else "scheduled"
            console.print(f"  {render.when(message['send_at'])} {sent}: {message['title']}")
    if body.get("next_alarm"):
        console.print(f"next timer: {render.when(body['next_alarm'])}")


@launch_app.command("show")
def launch_show(ctx: typer.Context, product_id: ProductArg, output: OutputOption = None) -> None:
    """The GTM checklist with owners and due dates, goals, KPI reviews and any sunset plan."""
    with session(ctx, output) as s:
        body = s.client.get(product_path(product_id, "plans"))
        s.emit(body, lambda c: _plans(c, body))


@launch_app.command("date")
def launch_date(
    ctx: typer.Context,
    product_id: ProductArg,
    launch_at: Annotated[str, typer.Argument(help="The planned launch date (ISO 8601).")],
    output: OutputOption = None,
) -> None:
    """Set or move the planned launch date; the GTM due dates follow."""
    when = _moment(launch_at, "LAUNCH_AT")
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "launch", "date"), {"launch_at": when})
        s.emit(body, lambda c: product_view.receipt(c, f"launch planned for {when}", body))


@launch_app.command("goal")
def launch_goal(
    ctx: typer.Context,
    product_id: ProductArg,
    metric: Annotated[str, typer.Argument(help="The playbook's metric key.")],
    target: Annotated[float, typer.Argument(help="The value to reach.")],
    due_by: Annotated[str, typer.Option(help="When it must be reached (ISO 8601).")],
    kind: Annotated[str, typer.Option(help="adoption, engagement, retention or revenue.")] = (
        "adoption"
    ),
    comparison: Annotated[str, typer.Option(help=">=, >, <= or <.")] = ">=",
    output: OutputOption = None,
) -> None:
    """Set a launch goal: the target growth is measured against."""
    if not math.isfinite(target):
        raise usage_error(f"{target} is not a finite number", "TARGET")
    body_in = {
        "metric": metric,
        "target": target,
        "kind": kind,
        "comparison": comparison,
        "due_by": _moment(due_by, "--due-by"),
    }
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "launch", "goals"), body_in)
        s.emit(body, lambda c: product_view.receipt(c, f"goal set for {metric}", body))


@growth_app.command("experiment")
def growth_experiment(
    ctx: typer.Context,
    product_id: ProductArg,
    hypothesis: Annotated[str, typer.Option(help="What the experiment tests.")],
    variant: Annotated[list[str], typer.Option(help="A variant; give two or more.")],
    result: Annotated[str, typer.Option(help="What it showed.")] = "",
    decision: Annotated[str | None, typer.Option(help="adopt, iterate or abandon.")] = None,
    output: OutputOption = None,
) -> None:
    """Record an experiment as growth evidence."""
    payload = {
        "hypothesis": hypothesis,
        "variants": variant,
        "result": result,
        "decision": decision,
    }
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "experiments"), payload)
        s.emit(body, lambda c: product_view.receipt(c, "experiment recorded", body))


@sunset_app.command("propose")
def sunset_propose(
    ctx: typer.Context,
    product_id: ProductArg,
    reason: Annotated[str, typer.Option(help="Why the product ends.")] = "",
    end_of_life: Annotated[
        str | None, typer.Option(help="The end-of-life date (ISO 8601).", show_default=False)
    ] = None,
    communication_plan: Annotated[str, typer.Option(help="How customers are told.")] = "",
    transition_plan: Annotated[str, typer.Option(help="How customers migrate.")] = "",
    output: OutputOption = None,
) -> None:
    """Propose the sunset plan; the answer names every part still missing."""
    payload = {
        "reason": reason,
        "end_of_life": _moment(end_of_life, "--end-of-life") if end_of_life else None,
        "communication_plan": communication_plan,
        "transition_plan": transition_plan,
    }
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "sunset"), payload)
        s.emit(body, lambda c: product_view.receipt(c, "sunset proposed", body))
