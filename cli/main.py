"""The `lifecycle` command: a client of the lifecycle HTTP API, plus the local `dev`, `worker`
and `playbook check` commands.

Global options (before the command) configure the client; `--output` is accepted both there and
on every command, where it wins. See `cli.session` for the output contract and exit codes.
"""

from typing import Annotated

import typer

from cli.client import DEFAULT_TIMEOUT, DEFAULT_URL
from cli.commands import (
    admin,
    audit,
    config,
    delegations,
    deploy,
    growth,
    local,
    notifications,
    playbook_migration,
    products,
    projections,
    trail,
)
from cli.session import CliConfig, OutputFormat

app = typer.Typer(
    help="Product lifecycle: stage gates, sign-offs and an auditable trail.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals would include the token
)


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{value!r} must start with http:// or https://")
    return value


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Option(
            envvar="LIFECYCLE_URL", callback=_check_url, help="Base URL of the lifecycle API."
        ),
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="LIFECYCLE_TOKEN",
            show_default=False,
            help="API token (lc_...) or OIDC JWT. Prefer the environment variable: "
            "command lines are visible to other users of the machine.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--output",
            "-o",
            envvar="LIFECYCLE_OUTPUT",
            case_sensitive=False,
            help="text (tables) or json (the API's body on stdout).",
        ),
    ] = OutputFormat.TEXT,
    timeout: Annotated[
        float,
        typer.Option(
            envvar="LIFECYCLE_TIMEOUT", min=0.1, help="Seconds to wait for the API's answer."
        ),
    ] = DEFAULT_TIMEOUT,
) -> None:
    """Product lifecycle: stage gates, sign-offs and an auditable trail.

    Exit codes: 0 done, 1 refused by the API, 2 usage error, 3 API unreachable or failing.
    """
    ctx.obj = CliConfig(url=url, token=token or None, output=output, timeout=timeout)


products.register(app)
audit.register(app)
trail.register(app)
projections.register(app)
admin.register(app)
delegations.register(app)
local.register(app)
playbook_migration.register(app)
config.register(app)
deploy.register(app)
growth.register(app)
notifications.register(app)
