"""Gate reviews, sign-offs (or their revocation), Stage-Gate decisions, and meeting the
conditions of a Conditional Go."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.client import segment
from cli.commands.common import ProductArg, product_path
from cli.session import OutputOption, session, usage_error
from cli.views import product as product_view
from domain.stages import Stage

gate_app = typer.Typer(
    help="Reviews, sign-offs and Stage-Gate decisions (Go, Conditional Go, Kill, Hold, Resume, "
    "Recycle).",
    no_args_is_help=True,
)
condition_app = typer.Typer(
    help="Conditions of a Conditional Go, which block the next gate until met.",
    no_args_is_help=True,
)


class VerdictChoice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


class OutcomeChoice(StrEnum):
    """The Stage-Gate decisions, spelled for a command line (the API says `conditional_go`)."""

    GO = "go"
    CONDITIONAL_GO = "conditional-go"
    KILL = "kill"
    HOLD = "hold"
    RESUME = "resume"
    RECYCLE = "recycle"

    @property
    def api_value(self) -> str:
        return self.value.replace("-", "_")


# -- gate ---------------------------------------------------------------------------------------


@gate_app.command("review")
def gate_review(
    ctx: typer.Context,
    product_id: ProductArg,
    note: Annotated[str, typer.Option(help="A note for the approvers.")] = "",
    output: OutputOption = None,
) -> None:
    """Ask the gate's approvers to sign (product owner; starts a new round)."""
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "gate", "review"), {"note": note})
        s.emit(body, lambda c: product_view.receipt(c, "review requested", body))


@gate_app.command("signoff")
def gate_signoff(
    ctx: typer.Context,
    product_id: ProductArg,
    approve: Annotated[bool, typer.Option("--approve", help="Approve.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject (needs --reason).")] = False,
    review: Annotated[
        bool,
        typer.Option("--review", help="Reviewed: read, neither for nor against (not counted)."),
    ] = False,
    verdict: Annotated[
        VerdictChoice | None,
        typer.Option(help="approve, reject or review, instead of the flags."),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Role you sign in; may be left out when you hold only one the gate asks "
            "(or, with --on-behalf-of, when that person delegated only one role to you)."
        ),
    ] = None,
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            metavar="SUBJECT",
            help="Sign for this person, under their active delegation to you.",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    output: OutputOption = None,
) -> None:
    """Approve, reject or mark as reviewed the open review, yourself or for someone away."""
    chosen = {verdict} if verdict is not None else set()
    chosen |= {VerdictChoice.APPROVE} if approve else set()
    chosen |= {VerdictChoice.REJECT} if reject else set()
    chosen |= {VerdictChoice.REVIEW} if review else set()
    if len(chosen) != 1:
        raise usage_error(
            "give exactly one verdict: --approve, --reject, --review "
            "or --verdict approve|reject|review",
            "--approve/--reject/--review",
        )
    (final,) = chosen
    done = f"signed: {final.value}" + (f" for {on_behalf_of}" if on_behalf_of else "")
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "gate", "signoffs"),
            {
                "verdict": final.value,
                "role": role,
                "reason": reason,
                "on_behalf_of": on_behalf_of,
            },
        )
        s.emit(body, lambda c: product_view.receipt(c, done, body))


@gate_app.command("revoke")
def gate_revoke(
    ctx: typer.Context,
    product_id: ProductArg,
    reason: Annotated[str, typer.Option(help="Why you withdraw it; kept in the trail.")],
    output: OutputOption = None,
) -> None:
    """Withdraw your sign-off (and any you gave for others) while the gate is undecided."""
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "gate", "signoffs", "revoke"), {"reason": reason}
        )
        s.emit(body, lambda c: product_view.receipt(c, "sign-off revoked", body))


_TAKES_CONDITIONS = {OutcomeChoice.CONDITIONAL_GO}
_TAKES_TARGET = {OutcomeChoice.RECYCLE}


@gate_app.command("decide")
def gate_decide(
    ctx: typer.Context,
    product_id: ProductArg,
    outcome: Annotated[
        OutcomeChoice,
        typer.Argument(
            metavar="OUTCOME", help="go, conditional-go, kill, hold, resume or recycle."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why; kept in the trail.")],
    conditions: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            metavar="TEXT",
            help="A condition of a conditional-go, to be met before the next gate; repeat "
            "for several. The API refuses a conditional-go without one.",
            show_default=False,
        ),
    ] = None,
    recycle_to: Annotated[
        Stage | None,
        typer.Option(
            "--to",
            metavar="STAGE",
            help="The stage a recycle sends the product back to (this one or an earlier one). "
            "The API refuses a recycle without it.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Decide the gate: go (to the next stage), conditional-go (with --condition), kill,
    hold, resume (after a hold) or recycle (with --to)."""
    # What a decision needs (a decider role, conditions, a target stage it accepts) is the API's
    # to judge, so a missing --condition or --to is sent as is and refused there (exit 1, with
    # the rule). Only an option the outcome does not take is a usage error (exit 2): the API
    # would silently ignore it.
    if conditions and outcome not in _TAKES_CONDITIONS:
        raise usage_error(
            f"--condition goes with conditional-go, not {outcome.value}", "--condition"
        )
    if recycle_to is not None and outcome not in _TAKES_TARGET:
        raise usage_error(f"--to goes with recycle, not {outcome.value}", "--to")
    request: dict[str, Any] = {"outcome": outcome.api_value, "reason": reason}
    if outcome in _TAKES_CONDITIONS:
        request["conditions"] = list(conditions or [])
    if outcome in _TAKES_TARGET:
        request["recycle_to"] = recycle_to.value if recycle_to is not None else None
    done = f"decided {outcome.value}" + (f" to {recycle_to.value}" if recycle_to else "")
    with session(ctx, output) as s:
        body = s.client.post(product_path(product_id, "gate", "decision"), request)

        def show(console: Console) -> None:
            product_view.receipt(console, done, body)
            follow_up = _DECISION_FOLLOW_UP.get(outcome)
            if follow_up:
                console.print(render.text(follow_up.format(product_id=product_id), "dim"))

        s.emit(body, show)


_DECISION_FOLLOW_UP = {
    OutcomeChoice.CONDITIONAL_GO: "conditions and their ids: lifecycle product show {product_id}"
    "; record one as met: lifecycle condition meet {product_id} CONDITION_ID",
    OutcomeChoice.HOLD: "on hold; lift it with: lifecycle gate decide {product_id} resume "
    "--reason ...",
}


# -- conditions ---------------------------------------------------------------------------------


@condition_app.command("meet")
def condition_meet(
    ctx: typer.Context,
    product_id: ProductArg,
    condition_id: Annotated[
        str,
        typer.Argument(
            metavar="CONDITION_ID", help="The condition's id (lifecycle product show lists them)."
        ),
    ],
    note: Annotated[str, typer.Option(help="How it was met, for the record.")] = "",
    output: OutputOption = None,
) -> None:
    """Record a condition of a Conditional Go as met (the product owner)."""
    with session(ctx, output) as s:
        body = s.client.post(
            product_path(product_id, "conditions", segment(condition_id)), {"note": note}
        )
        s.emit(body, lambda c: product_view.receipt(c, f"condition {condition_id} met", body))
