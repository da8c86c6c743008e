"""The sign-offs waiting for the person asking."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from cli.render import Body, new_table, person, text, when


def approvals(console: Console, pending: Sequence[Body]) -> None:
    if not pending:
        console.print("nothing waits for your sign-off")
        return
    table = new_table(
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
