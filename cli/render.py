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
REVIEWED = Text("○", style="bold yellow")  # read, neither for nor against
REVOKED = Text("↺", style="dim")
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
    table = _table("", "signer", "role", "verdict", "reason", "signed at")
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
    table = _table("role", "approvals", "")
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
    table = _table("", "condition id", "condition", "imposed at", "due at gate", "state")
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


def event_details(event_type: str, data: Body, conditions: Mapping[str, str] | None = None) -> str:
    """The few fields of an event an auditor reads first; everything is in `--output json`.
    `conditions` maps condition ids to their text, from the decisions that imposed them."""
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
            due = f", due {when(d('due_at'))}" if d("due_at") else ""
            note = f": {d('note')}" if d("note") else ""
            return f"gate {d('gate')}, round {d('round')}{due}{note}"
        case "SignOffGiven":
            principal = f" for {person(d('on_behalf_of'))}" if d("on_behalf_of") else ""
            reason = f": {d('reason')}" if d("reason") else ""
            return (
                f"{str(d('verdict')).upper()} gate {d('gate')}, round {d('round')}{principal}"
                f"{reason}{_state_hash(d('gate_state_hash'))}"
            )
        case "SignOffRevoked":
            where = f"gate {d('gate')}, round {d('round')}"
            return f"sign-off of {d('voter')} withdrawn, {where}: {d('reason')}"
        case "GateReviewVoided":
            return f"round {d('round')} of gate {d('gate')} voided: {d('reason')}"
        case "ApproversReminded":
            waiting = ", ".join(d("waiting_roles") or [])
            return f"reminder {d('reminder')}, gate {d('gate')}, round {d('round')}: {waiting}"
        case "ReviewEscalated":
            waiting = ", ".join(d("waiting_roles") or [])
            return (
                f"escalated to {d('to_role')}, gate {d('gate')}, round {d('round')}; "
                f"waiting for {waiting}"
            )
        case "ReviewTimedOut":
            return (
                f"gate {d('gate')}, round {d('round')} passed its deadline "
                f"{when(d('due_at'))}: {d('outcome')}"
            )
        case "GateDecided":
            how = " (automatic)" if d("automatic") else ""
            target = f" to {d('recycle_to')}" if d("recycle_to") else ""
            outcome = str(d("outcome")).replace("_", " ").upper()
            imposed = "; ".join(
                f"[{c.get('condition_id')}] {c.get('text')}"
                for c in d("conditions") or []
                if isinstance(c, Mapping)
            )
            return (
                f"{outcome} at gate {d('gate')}{target}{how}: {d('reason')}"
                + (f"; conditions: {imposed}" if imposed else "")
                + _state_hash(d("gate_state_hash"))
            )
        case "ConditionMet":
            condition_id = str(d("condition_id"))
            known = (conditions or {}).get(condition_id)
            if known:
                met = f"condition met: {known} [{condition_id}]"
            else:
                met = f"condition {condition_id} met"
            return met + (f": {d('note')}" if d("note") else "")
        case "StageEntered":
            return f"{d('previous_stage')} → {d('stage')}"
        case "ProductKilled":
            return f"killed in {d('stage')}: {d('reason')}"
    return ", ".join(
        f"{key}={value}"
        for key, value in data.items()
        if key not in _NOT_DETAIL and isinstance(value, str | int | float | bool)
    )


def _state_hash(value: object) -> str:
    """The gate state a signature or decision refers to, abbreviated like a commit."""
    return f" [gate state {str(value)[:12]}]" if value else ""


def trail(console: Console, product_id: str, events: Sequence[Body]) -> None:
    if not events:
        console.print(f"no events for {product_id} in this range")
        return
    table = _table("#", "time", "actor", "role", "event", "details")
    table.title = text(f"Decision trail of {product_id}", "bold")
    conditions = {
        str(c.get("condition_id")): str(c.get("text"))
        for event in events
        if event.get("type") == "GateDecided"
        for c in (event.get("data") or {}).get("conditions") or []
        if isinstance(c, Mapping)
    }
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
            text(event_details(event_type, data, conditions)),
        )
    console.print(table)


# -- approvals, people, tokens ------------------------------------------------------------------


def approvals(console: Console, pending: Sequence[Body]) -> None:
    if not pending:
        console.print("nothing waits for your sign-off")
        return
    table = _table(
        "product",
        "name",
        "gate",
        "role",
        "approvals",
        "round",
        "requested by",
        "requested",
        "due",
    )
    overdue = sum(1 for item in pending if item.get("overdue"))
    title = f"{len(pending)} sign-off(s) wait for you" + (f", {overdue} overdue" if overdue else "")
    table.title = text(title, "bold")
    for item in pending:
        role = text(item.get("role"))
        if item.get("on_behalf_of"):
            role.append(f" for {item.get('on_behalf_of')}", style="cyan")
        due = text(when(item.get("due_at")) or "no deadline")
        if item.get("overdue"):
            due.append(" OVERDUE", style="bold red")
        table.add_row(
            text(item.get("product_id"), "bold"),
            text(item.get("product_name")),
            text(f"{item.get('gate')}: {item.get('gate_title')}"),
            role,
            text(f"{item.get('approvals')} of {item.get('needed')}"),
            text(item.get("round")),
            text(person(item.get("requested_by"))),
            text(when(item.get("requested_at"))),
            due,
        )
    console.print(table)
    console.print(
        text(
            "sign with: lifecycle gate signoff PRODUCT --approve|--reject|--review --role ROLE "
            "--reason ...",
            "dim",
        )
    )
    if any(item.get("on_behalf_of") for item in pending):
        console.print(
            text("for someone away (role ... for SUBJECT): add --on-behalf-of SUBJECT", "dim")
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
