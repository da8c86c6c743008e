"""Administration tables: users and their roles, API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.text import Text

from cli.render import Body, new_table, person, text, when


def user_line(user: Body) -> Text:
    roles = ", ".join(user.get("roles") or []) or "no roles"
    line = Text.assemble(text(person(user), "bold"), text(f" · roles: {roles}"))
    if user.get("disabled"):
        line.append(" · disabled", style="red")
    return line


def users(console: Console, people: Sequence[Body]) -> None:
    table = new_table("subject", "name", "roles", "status")
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
    table = new_table("token id", "subject", "label", "created", "expires", "state")
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
