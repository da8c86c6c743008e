"""A product as the CLI prints it: command receipts, the product page with its gate, review,
conditions and metrics, and the portfolio list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.render import (
    FAIL,
    PASS,
    REVIEWED,
    REVOKED,
    Body,
    mark,
    new_table,
    number,
    person,
    text,
    when,
)

MAX_UNMET_SHOWN = 3


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


def product_detail(console: Console, body: Body, now: datetime | None = None) -> None:
    """Everything a reviewer asks of a product: where it stands, what its gate still needs, who
    signed and who is missing, when the review is due, why the gate is blocked, any hold and
    the conditions of a Conditional Go."""
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
    if body.get("on_hold"):
        hold = f"ON HOLD: {body.get('hold_reason') or 'no reason given'}"
        facts.add_row("hold", text(hold, "bold red"))
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
        console.print()
        review_section(console, review, body.get("next_review_alarm"), now)
    waiting = body.get("waiting_for") or []
    if waiting:
        console.print(waiting_table(waiting))
    blocked = body.get("blocked_by") or []
    if not waiting:
        console.print()
    if blocked:
        console.print(text("Blocked by", "bold"))
        for line in blocked:
            console.print(Text.assemble("  ", FAIL.copy(), " ", text(line)))
    elif gate:
        console.print(Text.assemble(PASS.copy(), " nothing blocks the gate"))
    conditions = body.get("conditions") or []
    if conditions:
        console.print(conditions_table(conditions))
    metrics = body.get("metrics") or {}
    if metrics:
        console.print(metrics_table(metrics.values()))


def gate_table(gate: Body) -> Table:
    criteria = gate.get("criteria", [])
    title = Text.assemble(
        text(f"Gate {gate.get('gate')} → {gate.get('leads_to')}: ", "bold"),
        text(gate.get("title"), "bold"),
    )
    table = new_table("", "kind", "criterion", "reason")
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


def moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def review_overdue(review: Body, now: datetime | None = None) -> bool:
    """Past its deadline: the engine recorded the timeout, or the due time has passed."""
    if review.get("timed_out"):
        return True
    due = moment(review.get("due_at"))
    return due is not None and due <= (now or datetime.now(UTC))


def due_line(review: Body, alarm: object = None, now: datetime | None = None) -> Text:
    """`due 2026-03-12 09:30 UTC OVERDUE · 2 reminder(s) sent · escalated to exec-sponsor`."""
    line = Text()
    if review.get("due_at"):
        line.append(f"due {when(review.get('due_at'))}")
        if review_overdue(review, now):
            line.append(" OVERDUE", style="bold red")
    else:
        line.append("no deadline (the playbook sets no SLA for this gate)", style="dim")
    line.append(f" · {review.get('reminders') or 0} reminder(s) sent")
    if review.get("escalated_to"):
        line.append(" · escalated to ")
        line.append(str(review.get("escalated_to")), style="bold")
    if review.get("timed_out"):
        line.append(f" · timed out: {review.get('timed_out')}", style="red")
    if alarm:
        line.append(f" · next reminder or deadline check {when(alarm)}", style="dim")
    return line


def signer_cell(record: Body) -> Text:
    """`Mia Rossi (mia) for Omar Haddad (omar)` when a delegate signed."""
    cell = text(person(record.get("signer")))
    principal = record.get("on_behalf_of")
    if principal:
        cell.append(f" for {person(principal)}")
    return cell


def verdict_mark(verdict: str) -> Text:
    if verdict == "review":
        return REVIEWED.copy()
    return mark(verdict == "approve")


def review_section(
    console: Console, review: Body, alarm: object = None, now: datetime | None = None
) -> None:
    console.print(
        text(
            f"Review round {review.get('round')}, requested by "
            f"{person(review.get('requested_by'))} on {when(review.get('requested_at'))}",
            "bold",
        )
    )
    console.print(Text.assemble("  ", due_line(review, alarm, now)))
    console.print(review_table(review))


def review_table(review: Body) -> Table:
    table = new_table("", "signer", "role", "verdict", "reason", "signed at")
    sign_offs = review.get("sign_offs") or []
    for record in sign_offs:
        signer = record.get("signer") or {}
        verdict = str(record.get("verdict"))
        table.add_row(
            verdict_mark(verdict),
            signer_cell(record),
            text(signer.get("role")),
            text(verdict),
            text(record.get("reason")),
            text(when(record.get("signed_at"))),
        )
    for record in review.get("revoked") or []:
        signer = record.get("signer") or {}
        table.add_row(
            REVOKED.copy(),
            signer_cell(record),
            text(signer.get("role")),
            text(f"{record.get('verdict')} (revoked)", "dim"),
            text(record.get("reason"), "dim"),
            text(when(record.get("signed_at")), "dim"),
        )
    if not sign_offs:
        table.caption = text("no sign-offs yet in this round", "dim")
        table.caption_justify = "left"
    return table


def waiting_table(waiting: Sequence[Body]) -> Table:
    table = new_table("role", "approvals", "")
    table.title = text("Waiting for", "bold")
    for role in waiting:
        table.add_row(
            text(role.get("role"), "bold"),
            text(f"{role.get('approvals')} of {role.get('needed')}"),
            text("optional: not needed, but a rejection blocks", "dim")
            if role.get("optional")
            else text("required"),
        )
    return table


def conditions_table(conditions: Sequence[Body]) -> Table:
    table = new_table("", "condition id", "condition", "imposed at", "due at gate", "state")
    table.title = text("Conditions of a Conditional Go", "bold")
    for condition in conditions:
        met_by = condition.get("met_by")
        if met_by:
            state = text(f"met by {person(met_by)} on {when(condition.get('met_at'))}")
            if condition.get("note"):
                state.append(f": {condition.get('note')}")
        else:
            state = text("open", "yellow")
        table.add_row(
            mark(bool(met_by)),
            text(condition.get("condition_id"), "bold"),
            text(condition.get("text")),
            text(f"gate {condition.get('imposed_at_gate')}, {when(condition.get('imposed_at'))}"),
            text(condition.get("due_gate")),
            state,
        )
    open_ones = sum(1 for c in conditions if not c.get("met_by"))
    table.caption = text(f"{open_ones} open, {len(conditions) - open_ones} met", "dim")
    table.caption_justify = "left"
    return table


def metrics_table(readings: Iterable[Body]) -> Table:
    table = new_table("metric", "value", "source", "observed", "recorded by")
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
    table = new_table("product", "name", "stage", "status", "owner", "playbook", "since", "review")
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
