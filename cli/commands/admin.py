"""People, roles and API tokens (admins), and who the current token signs in as."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.client import segment
from cli.session import OutputOption, config_of, session, usage_error
from cli.views import admin as admin_view

users_app = typer.Typer(help="People and their roles (admin).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)

SubjectArg = Annotated[str, typer.Argument(help="The person's subject (stable id).")]
RolesOption = Annotated[
    list[str] | None,
    typer.Option("--role", help="A role (repeat, or separate with commas).", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.command("whoami")(whoami)


def _roles(values: list[str] | None) -> list[str]:
    roles: list[str] = []
    for value in values or []:
        for role in value.split(","):
            if role.strip() and role.strip() not in roles:
                roles.append(role.strip())
    return roles


def whoami(ctx: typer.Context, output: OutputOption = None) -> None:
    """Who the token signs in as, with which roles, at which API."""
    with session(ctx, output) as s:
        body = s.client.get("/me")

        def show(console: Console) -> None:
            console.print(admin_view.user_line(body))
            console.print(render.text(f"at {config_of(ctx).url}", "dim"))

        s.emit(body, show)


# -- users --------------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    subject: SubjectArg,
    name: Annotated[str, typer.Option(help="Printed name, as it appears in the trail.")],
    role: RolesOption = None,
    output: OutputOption = None,
) -> None:
    """Add a person with their roles."""
    with session(ctx, output) as s:
        body = s.client.post(
            "/users", {"subject": subject, "display_name": name, "roles": _roles(role)}
        )
        s.emit(body, lambda c: c.print(render.text("added ") + admin_view.user_line(body)))


@users_app.command("list")
def users_list(ctx: typer.Context, output: OutputOption = None) -> None:
    """Every person, enabled or not."""
    with session(ctx, output) as s:
        body = s.client.get("/users")
        s.emit(body, lambda c: admin_view.users(c, body))


@users_app.command("set-roles")
def users_set_roles(
    ctx: typer.Context, subject: SubjectArg, role: RolesOption = None, output: OutputOption = None
) -> None:
    """Replace a person's roles with the ones given."""
    roles = _roles(role)
    if not roles:
        raise usage_error(
            "give at least one --role (disable the user to take all rights)", "--role"
        )
    _patch_user(ctx, subject, {"roles": roles}, "roles set: ", output)


@users_app.command("disable")
def users_disable(ctx: typer.Context, subject: SubjectArg, output: OutputOption = None) -> None:
    """Stop a person from signing in; their tokens stop working until enabled again."""
    _patch_user(ctx, subject, {"disabled": True}, "disabled ", output)


@users_app.command("enable")
def users_enable(ctx: typer.Context, subject: SubjectArg, output: OutputOption = None) -> None:
    """Let a disabled person sign in again (their unexpired, unrevoked tokens work again)."""
    _patch_user(ctx, subject, {"disabled": False}, "enabled ", output)


def _patch_user(
    ctx: typer.Context,
    subject: str,
    change: dict[str, Any],
    done: str,
    output: OutputOption,
) -> None:
    with session(ctx, output) as s:
        body = s.client.patch(f"/users/{segment(subject)}", change)
        s.emit(body, lambda c: c.print(render.text(done) + admin_view.user_line(body)))


# -- tokens -------------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    subject: SubjectArg,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(min=1, max=366, help="Valid for this many days.")] = 30,
    output: OutputOption = None,
) -> None:
    """Issue a token (admins for anyone, others for themselves). It is shown once."""
    with session(ctx, output) as s:
        body = s.client.post(
            "/tokens", {"subject": subject, "label": label, "expires_in_days": days}
        )

        def show(console: Console) -> None:
            console.print(
                render.text(
                    f"token {body.get('token_id')} for {body.get('subject')} "
                    f"({body.get('label')}), expires {render.when(body.get('expires_at'))}:"
                )
            )
            console.print(render.text(body.get("token"), "bold"), soft_wrap=True)
            console.print(
                render.text(
                    "shown once: store it now. Revoke with: lifecycle tokens revoke "
                    f"{body.get('token_id')}",
                    "dim",
                )
            )

        s.emit(body, show)


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Option(
            help="Only this person's tokens (admins may list anyone's).", show_default=False
        ),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Tokens (never their secrets)."""
    with session(ctx, output) as s:
        body = s.client.get("/tokens", {"subject": subject})
        s.emit(body, lambda c: admin_view.tokens(c, body))


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The token's id.")],
    output: OutputOption = None,
) -> None:
    """Revoke a token now (your own, or anyone's as admin)."""
    with session(ctx, output) as s:
        body = s.client.post(f"/tokens/{segment(token_id)}/revoke")
        s.emit(
            body,
            lambda c: c.print(
                render.text(f"revoked token {body.get('token_id')} of {body.get('subject')}")
            ),
        )
