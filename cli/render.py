"""Human output's primitives: marks, timestamps, names and plain tables, shared by `cli.views`.

Every value that came from the API is wrapped in `Text`, so a product named `[bold]x` prints as
typed instead of being read as Rich markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

PASS = Text("✓", style="bold green")
FAIL = Text("✗", style="bold red")
REVIEWED = Text("○", style="bold yellow")  # read, neither for nor against
REVOKED = Text("↺", style="dim")

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


def new_table(*columns: str) -> Table:
    table = Table(title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column)
    return table
