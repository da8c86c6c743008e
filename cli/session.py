"""What every API command shares: configuration, `--output`, and how failures end the process.

Output contract:

* `--output json`: stdout carries exactly the API's JSON body (pretty-printed), nothing else.
  A refusal prints the API's error body there too, and the one-line reason on stderr.
* `--output text`: Rich tables and sentences on stdout; the one-line reason of a failure on
  stderr.

Exit codes: 0 done; 1 refused by the API (any 4xx); 2 usage error (from Typer/Click, or a
contradiction between options); 3 the API could not be reached, timed out, or failed (5xx).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli.client import DEFAULT_TIMEOUT, DEFAULT_URL, ApiError, ApiUnreachable, LifecycleClient

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


OutputOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        case_sensitive=False,
        show_default=False,
        help="text (tables) or json (the API's body on stdout). Overrides the global --output.",
    ),
]


@dataclass(frozen=True)
class CliConfig:
    """The global options, set once by the root callback and read by every command."""

    url: str = DEFAULT_URL
    token: str | None = None
    output: OutputFormat = OutputFormat.TEXT
    timeout: float = DEFAULT_TIMEOUT


def config_of(ctx: typer.Context) -> CliConfig:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliConfig) else CliConfig()


def one_line(text: str) -> str:
    return " ".join(text.split())


class Session:
    """One command's view of the world: the client, the chosen output, the two consoles."""

    def __init__(self, config: CliConfig, output: OutputFormat | None) -> None:
        self.config = config
        self.output = output or config.output
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.client = LifecycleClient(config.url, config.token, timeout=config.timeout)

    @property
    def json(self) -> bool:
        return self.output is OutputFormat.JSON

    def emit(self, body: Any, render: Callable[[Console], None]) -> None:
        """The API's body as JSON, or the human rendering of it."""
        if self.json:
            print_json(body)
        else:
            render(self.out)

    def fail(self, line: str, body: dict[str, Any], code: int) -> typer.Exit:
        if self.json:
            print_json(body)
        self.err.print(Text(one_line(line), style="red"), soft_wrap=True)
        return typer.Exit(code=code)

    def refused(self, error: ApiError) -> typer.Exit:
        verb = "failed" if error.is_server_error else "refused"
        line = f"{verb} ({error.status} {error.rule}): {one_line(error.message)}"
        if error.status == 401 and error.rule == "auth.missing_token":
            line += " (set LIFECYCLE_TOKEN or pass --token)"
        code = EXIT_UNAVAILABLE if error.is_server_error else EXIT_REFUSED
        return self.fail(line, error.body, code)

    def unreachable(self, error: ApiUnreachable) -> typer.Exit:
        line = str(error)
        body: dict[str, Any] = {
            "error": {"status": None, "rule": "api.unreachable", "message": line, "fields": []}
        }
        return self.fail(line, body, EXIT_UNAVAILABLE)


def print_json(body: Any) -> None:
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


@contextmanager
def session(ctx: typer.Context, output: OutputFormat | None) -> Iterator[Session]:
    """Runs a command's body; turns the client's two exceptions into a line and an exit code."""
    current = Session(config_of(ctx), output)
    try:
        yield current
    except ApiError as error:
        raise current.refused(error) from None
    except ApiUnreachable as error:
        raise current.unreachable(error) from None
    finally:
        current.client.close()


def usage_error(message: str, param_hint: str | None = None) -> typer.BadParameter:
    """A contradiction between options: Click prints usage and exits with 2."""
    return typer.BadParameter(message, param_hint=param_hint)
