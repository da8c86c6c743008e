"""`lifecycle trail [PRODUCT]`: the decision trail, one product's or the whole portfolio's.

Filters are the API's (`GET /trail`); the cursor is the global position, so `--after` takes the
`next_after` a page printed. Sign-offs and decisions show their signature manifestation
(printed name, time, meaning, reason) and the playbook in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.session import OutputOption, session, usage_error
from cli.views.trail import event_details
from domain.stages import Stage

PAGE_MAX = 500


def register(app: typer.Typer) -> None:
    app.command("trail")(trail)
    app.command("analytics")(analytics)


def instant(value: str | None, option: str) -> str | None:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise usage_error(
            f"{value!r} is not an ISO 8601 date or date-time (e.g. 2025-03-01T09:30Z)", option
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def trail(
    ctx: typer.Context,
    product_id: Annotated[
        str | None, typer.Argument(help="Only this product (default: the whole portfolio).")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Only what this subject did (or was signed for).")
    ] = None,
    event_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only these event types (repeat, or comma-separate)."),
    ] = None,
    gate: Annotated[Stage | None, typer.Option(help="Only events about this gate.")] = None,
    since: Annotated[str | None, typer.Option(help="Recorded at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Recorded at or before (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=PAGE_MAX, help="Events per page.")] = 50,
    after: Annotated[int, typer.Option(min=0, help="Start after this log position.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    output: OutputOption = None,
) -> None:
    """Who did what, when, in which role and why; signatures with their meaning."""
    params: dict[str, Any] = {
        "product": product_id,
        "actor": actor,
        "type": ",".join(event_type) if event_type else None,
        "gate": gate.value if gate else None,
        "since": instant(since, "--since"),
        "until": instant(until, "--until"),
        "limit": PAGE_MAX if every else limit,
        "after": after,
    }
    with session(ctx, output) as s:
        body: dict[str, Any] = s.client.get("/trail", params)
        if every:
            events = list(body.get("events", []))
            while body.get("next_after") is not None:
                body = s.client.get("/trail", {**params, "after": body["next_after"]})
                events.extend(body.get("events", []))
            body = {"product_id": product_id, "events": events, "next_after": None}

        def show(console: Console) -> None:
            show_trail(console, product_id, body.get("events", []))
            if body.get("next_after") is not None:
                more = f"more: add --after {body['next_after']} (or --all)"
                console.print(render.text(more, "dim"))

        s.emit(body, show)


def signature(entry: Mapping[str, Any]) -> str:
    """The manifestation line of a sign-off or decision, and the playbook in force."""
    sig = entry.get("manifestation")
    if not isinstance(sig, Mapping):
        return ""
    role = f" as {sig['role']}" if sig.get("role") else ""
    behalf = f" for {sig['on_behalf_of']}" if sig.get("on_behalf_of") else ""
    reason = f"; reason: {sig['reason']}" if sig.get("reason") else ""
    playbook = entry.get("playbook") or {}
    rules = (
        f"; playbook {playbook.get('name')} v{playbook.get('version')}"
        if playbook.get("name")
        else ""
    )
    stamp = render.when(sig.get("signed_at"), seconds=True)
    return (
        f"\nsigned {sig.get('printed_name')}{role}{behalf} at {stamp}; "
        f"meaning: {sig.get('meaning')}{reason}{rules}"
    )


def show_trail(console: Console, product_id: str | None, events: Sequence[Any]) -> None:
    scope = product_id or "the portfolio"
    if not events:
        console.print(f"no events of {scope} match")
        return
    table = render.new_table("#", "time", "product", "actor", "role", "event", "details")
    table.title = render.text(f"Decision trail of {scope}", "bold")
    for entry in events:
        data = entry.get("data") or {}
        who = entry.get("actor") or {}
        kind = str(entry.get("type"))
        table.add_row(
            render.text(entry.get("position")),
            render.text(render.when(entry.get("recorded_at"), seconds=True)),
            render.text(entry.get("product_id")),
            render.text(who.get("display_name")),
            render.text(who.get("role") or ""),
            render.text(kind, "bold"),
            render.text(event_details(kind, data) + signature(entry)),
        )
    console.print(table)


def _duration(seconds: object) -> str:
    """Seconds as days and hours (or minutes, for short spans); '-' for none."""
    if not isinstance(seconds, int | float):
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days}d {hours}h" if days else f"{hours}h"


def analytics(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Figures as of this instant (ISO 8601).")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Time in stage (median, p90), gate first-pass rate, approval latency per approver and
    role, and products killed per stage, read off the trail."""
    with session(ctx, output) as s:
        body: dict[str, Any] = s.client.get("/analytics", {"as_of": instant(as_of, "--as-of")})
        s.emit(body, lambda console: show_analytics(console, body))


def show_analytics(console: Console, body: Mapping[str, Any]) -> None:
    stages = render.new_table("stage", "finished stays", "median", "p90")
    stages.title = render.text(f"Time in stage, as of {render.when(body.get('as_of'))}", "bold")
    for stage, figures in (body.get("time_in_stage") or {}).items():
        stages.add_row(
            stage,
            str(figures["count"]),
            _duration(figures["median_seconds"]),
            _duration(figures["p90_seconds"]),
        )
    gates = render.new_table("gate", "decided", "first pass", "rate")
    gates.title = render.text("Gate first-pass rate", "bold")
    for gate in body.get("gate_first_pass") or []:
        rate = gate.get("rate")
        shown = f"{rate:.0%}" if isinstance(rate, int | float) else "-"
        gates.add_row(gate["gate"], str(gate["decided"]), str(gate["first_pass"]), shown)
    latency = render.new_table("approver / role", "sign-offs", "median", "p90")
    latency.title = render.text("Approval latency (review requested to sign-off)", "bold")
    rows = [(f"role {r['role']}", r["latency"]) for r in body.get("approval_latency_by_role") or []]
    rows += [
        (f"{a['printed_name']} ({a['subject']})", a["latency"])
        for a in body.get("approval_latency_by_approver") or []
    ]
    for who, figures in rows:
        latency.add_row(
            who,
            str(figures["count"]),
            _duration(figures["median_seconds"]),
            _duration(figures["p90_seconds"]),
        )
    for table in (stages, gates, latency):
        console.print(table)
    killed = body.get("killed_per_stage") or {}
    summary = ", ".join(f"{stage}: {n}" for stage, n in killed.items()) or "none"
    console.print(f"Killed per stage: {summary}")
