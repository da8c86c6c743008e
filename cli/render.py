"""Human output: the API's JSON bodies as Rich tables and short sentences.

Every value that came from the API is wrapped in `Text`, so a product named `[bold]x` prints as
typed instead of being read as Rich markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

PASS = Text("✓", style="bold green")
FAIL = Text("✗", style="bold red")
MAX_UNMET_SHOWN = 3

Body = Mapping[str, Any]


def text(value: object, style: str = "") -> Text:
    return Text("" if value is None else str(value), style=style)


def mark(passed: bool) -> Text:
    return PASS.copy() if passed else FAIL.copy()


def when(value: object, *, seconds: bool = False) -> str:
    """API timestamps in UTC, to the minute (or second, for the trail)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"


def number(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def person(ref: object) -> str:
    """`Display Name (subject)` from an actor reference."""
    if not isinstance(ref, Mapping):
        return ""
    name, subject = ref.get("display_name") or "", ref.get("subject") or ""
    return f"{name} ({subject})" if name and subject and name != subject else name or subject


def _table(*columns: str) -> Table:
    table = Table(title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column)
    return table


# -- command receipts --------------------------------------------------------------------------


def receipt(console: Console, done: str, body: Body) -> None:
    """What a command did, where the product stands now, and what its gate still needs."""
    events = [str(e.get("type")) for e in body.get("events", [])]
    head = Text.assemble(
        PASS.copy(),
        " ",
        text(body.get("product_id"), "bold"),
        ": ",
        text(done),
        text(f" ({', '.join(events) or 'no events'}; version {body.get('version')})", "dim"),
    )
    console.print(head)
    moved = "StageEntered" in events
    where = Text.assemble("  ", "moved to " if moved else "stage ", text(body.get("stage"), "bold"))
    gate = body.get("gate")
    if gate:
        where.append(" · ")
        where.append(gate_progress(gate))
    console.print(where)
    if gate:
        unmet = [c for c in gate.get("criteria", []) if not c.get("passed")]
        for criterion in unmet[:MAX_UNMET_SHOWN]:
            console.print(Text.assemble("  ", FAIL.copy(), " ", _criterion_line(criterion)))
        if len(unmet) > MAX_UNMET_SHOWN:
            more = len(unmet) - MAX_UNMET_SHOWN
            console.print(text(f"  ... and {more} more (lifecycle product show)", "dim"))


def gate_progress(gate: Body) -> Text:
    criteria = gate.get("criteria", [])
    met = sum(1 for c in criteria if c.get("passed"))
    line = text(f"gate {gate.get('gate')} → {gate.get('leads_to')}: {met} of {len(criteria)} met")
    if criteria and met == len(criteria):
        line.append(" (ready for a decision)", style="green")
    return line


def _criterion_line(criterion: Body) -> Text:
    return Text.assemble(text(criterion.get("key"), "bold"), ": ", text(criterion.get("reason")))


# -- products -----------------------------------------------------------------------------------


def product_detail(console: Console, body: Body) -> None:
    console.print(
        Text.assemble(text(body.get("name"), "bold"), "  ", text(body.get("product_id"), "dim"))
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    history = body.get("history") or []
    since = when(history[-1].get("entered_at")) if history else ""
    facts.add_row(
        "stage",
        text(f"{body.get('stage')} ({body.get('status')})" + (f" since {since}" * bool(since))),
    )
    facts.add_row(
        "owner",
        text(person({"display_name": body.get("owner_name"), "subject": body.get("owner")})),
    )
    playbook = body.get("playbook") or {}
    fingerprint = str(playbook.get("fingerprint", ""))[:12]
    facts.add_row(
        "playbook", text(f"{playbook.get('name')} v{playbook.get('version')} ({fingerprint})")
    )
    facts.add_row("version", text(body.get("version")))
    if body.get("description"):
        facts.add_row("about", text(body.get("description")))
    if len(history) > 1:
        facts.add_row("path", text(" → ".join(str(v.get("stage")) for v in history)))
    console.print(facts)
    gate = body.get("gate")
    if gate:
        console.print()
        console.print(gate_table(gate))
    else:
        console.print(text(f"\nno gate: the product is {body.get('stage')}", "dim"))
    review = body.get("review")
    if review:
        console.print(review_table(review))
    metrics = body.get("metrics") or {}
    if metrics:
        console.print(metrics_table(metrics.values()))


def gate_table(gate: Body) -> Table:
    criteria = gate.get("criteria", [])
    title = Text.assemble(
        text(f"Gate {gate.get('gate')} → {gate.get('leads_to')}: ", "bold"),
        text(gate.get("title"), "bold"),
    )
    table = _table("", "kind", "criterion", "reason")
    table.title = title
    for criterion in criteria:
        table.add_row(
            mark(bool(criterion.get("passed"))),
            text(criterion.get("kind")),
            text(criterion.get("key")),
            text(criterion.get("reason")),
        )
    table.caption = gate_progress(gate)
    table.caption_justify = "left"
    return table


def review_table(review: Body) -> Table:
    title = (
        f"Review round {review.get('round')}, requested by {person(review.get('requested_by'))}"
        f" on {when(review.get('requested_at'))}"
    )
    table = _table("", "signer", "role", "verdict", "reason", "signed at")
    table.title = text(title, "bold")
    sign_offs = review.get("sign_offs") or []
    for record in sign_offs:
        signer = record.get("signer") or {}
        verdict = str(record.get("verdict"))
        table.add_row(
            mark(verdict == "approve"),
            text(person(signer)),
            text(signer.get("role")),
            text(verdict),
            text(record.get("reason")),
            text(when(record.get("signed_at"))),
        )
    if not sign_offs:
        table.caption = text("no sign-offs yet in this round", "dim")
        table.caption_justify = "left"
    return table


def metrics_table(readings: Iterable[Body]) -> Table:
    table = _table("metric", "value", "source", "observed", "recorded by")
    table.title = text("Metrics (latest reading)", "bold")
    for reading in readings:
        unit = reading.get("unit") or ""
        table.add_row(
            text(reading.get("metric")),
            text(f"{number(reading.get('value'))} {unit}".strip()),
            text(reading.get("source")),
            text(when(reading.get("observed_at"))),
            text(person(reading.get("recorded_by"))),
        )
    return table


def product_list(console: Console, products: Sequence[Body]) -> None:
    if not products:
        console.print("no products match")
        return
    table = _table("product", "name", "stage", "status", "owner", "playbook", "since", "review")
    for p in products:
        table.add_row(
            text(p.get("product_id"), "bold"),
            text(p.get("name")),
            text(p.get("stage")),
            text(p.get("status")),
            text(person({"display_name": p.get("owner_name"), "subject": p.get("owner")})),
            text(f"{p.get('playbook_name')} v{p.get('playbook_version')}"),
            text(when(p.get("stage_entered_at"))),
            text("open" if p.get("review_open") else ""),
        )
    console.print(table)
    console.print(text(f"{len(products)} product(s)", "dim"))


# -- decision trail -----------------------------------------------------------------------------

_NOT_DETAIL = {"event_id", "schema_version", "product_id", "occurred_at", "actor", "type"}


def event_details(event_type: str, data: Body) -> str:
    """The few fields of an event an auditor reads first; everything is in `--output json`."""
    d = data.get
    match event_type:
        case "ProductRegistered":
            playbook = d("playbook") or {}
            return (
                f"'{d('name')}' owned by {d('owner_name')} ({d('owner')}), "
                f"playbook {playbook.get('name')} v{playbook.get('version')}"
            )
        case "EvidenceSubmitted":
            uri = f" <{d('uri')}>" if d("uri") else ""
            return f"{d('requirement')}: {d('title')}{uri}"
        case "ChecklistItemCompleted":
            return f"{d('item')} done" + (f": {d('note')}" if d("note") else "")
        case "ChecklistItemReopened":
            return f"{d('item')} reopened: {d('reason')}"
        case "MetricRecorded":
            unit = f" {d('unit')}" if d("unit") else ""
            return f"{d('metric')} = {number(d('value'))}{unit} from {d('source')}"
        case "GateReviewRequested":
            return f"gate {d('gate')}, round {d('round')}" + (f": {d('note')}" if d("note") else "")
        case "SignOffGiven":
            reason = f": {d('reason')}" if d("reason") else ""
            return f"{str(d('verdict')).upper()} gate {d('gate')}, round {d('round')}{reason}"
        case "GateDecided":
            how = " (automatic)" if d("automatic") else ""
            return f"{str(d('outcome')).upper()} at gate {d('gate')}{how}: {d('reason')}"
        case "StageEntered":
            return f"{d('previous_stage')} → {d('stage')}"
        case "ProductKilled":
            return f"killed in {d('stage')}: {d('reason')}"
    return ", ".join(
        f"{key}={value}"
        for key, value in data.items()
        if key not in _NOT_DETAIL and isinstance(value, str | int | float | bool)
    )


def trail(console: Console, product_id: str, events: Sequence[Body]) -> None:
    if not events:
        console.print(f"no events for {product_id} in this range")
        return
    table = _table("#", "time", "actor", "role", "event", "details")
    table.title = text(f"Decision trail of {product_id}", "bold")
    for event in events:
        data = event.get("data") or {}
        actor = event.get("actor") or {}
        event_type = str(event.get("type"))
        table.add_row(
            text(event.get("stream_version")),
            text(when(data.get("occurred_at") or event.get("recorded_at"), seconds=True)),
            text(actor.get("display_name")),
            text(actor.get("role") or ""),
            text(event_type, "bold"),
            text(event_details(event_type, data)),
        )
    console.print(table)


# -- approvals, people, tokens ------------------------------------------------------------------


def approvals(console: Console, pending: Sequence[Body]) -> None:
    if not pending:
        console.print("nothing waits for your sign-off")
        return
    table = _table(
        "product", "name", "gate", "role", "approvals", "round", "requested by", "requested"
    )
    table.title = text(f"{len(pending)} sign-off(s) wait for you", "bold")
    for item in pending:
        table.add_row(
            text(item.get("product_id"), "bold"),
            text(item.get("product_name")),
            text(f"{item.get('gate')}: {item.get('gate_title')}"),
            text(item.get("role")),
            text(f"{item.get('approvals')} of {item.get('needed')}"),
            text(item.get("round")),
            text(person(item.get("requested_by"))),
            text(when(item.get("requested_at"))),
        )
    console.print(table)
    console.print(
        text(
            "sign with: lifecycle gate signoff PRODUCT --approve|--reject --role ROLE --reason ...",
            "dim",
        )
    )


def user_line(user: Body) -> Text:
    roles = ", ".join(user.get("roles") or []) or "no roles"
    line = Text.assemble(text(person(user), "bold"), text(f" · roles: {roles}"))
    if user.get("disabled"):
        line.append(" · disabled", style="red")
    return line


def users(console: Console, people: Sequence[Body]) -> None:
    table = _table("subject", "name", "roles", "status")
    for user in people:
        table.add_row(
            text(user.get("subject"), "bold"),
            text(user.get("display_name")),
            text(", ".join(user.get("roles") or [])),
            text("disabled", "red") if user.get("disabled") else text("active"),
        )
    console.print(table)
    console.print(text(f"{len(people)} user(s)", "dim"))


def token_state(token: Body, now: datetime | None = None) -> Text:
    if token.get("revoked_at"):
        return text(f"revoked {when(token.get('revoked_at'))}", "red")
    expires = token.get("expires_at")
    moment = datetime.now(UTC) if now is None else now
    try:
        expired = isinstance(expires, str) and datetime.fromisoformat(expires) <= moment
    except ValueError:
        expired = False
    return text("expired", "yellow") if expired else text("active", "green")


def tokens(console: Console, items: Sequence[Body]) -> None:
    if not items:
        console.print("no tokens")
        return
    table = _table("token id", "subject", "label", "created", "expires", "state")
    for token in items:
        table.add_row(
            text(token.get("token_id"), "bold"),
            text(token.get("subject")),
            text(token.get("label")),
            text(when(token.get("created_at"))),
            text(when(token.get("expires_at"))),
            token_state(token),
        )
    console.print(table)
