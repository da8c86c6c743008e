"""The decision trail: one line per event, with the fields an auditor reads first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console

from cli.render import Body, new_table, number, person, text, when

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
    table = new_table("#", "time", "actor", "role", "event", "details")
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
