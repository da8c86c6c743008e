"""Products and their gates: register, gather evidence, tick items, record metrics, ask for a
review, sign (or revoke), decide, meet the conditions of a Conditional Go; read the portfolio, a
product, its decision trail and your inbox."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from cli import render
from cli.client import segment
from cli.session import OutputOption, session, usage_error
from cli.views import approvals as approvals_view
from cli.views import product as product_view
from cli.views import trail as trail_view
from domain.stages import Stage

product_app = typer.Typer(help="Register, list and show products.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence for the current gate.", no_args_is_help=True)
checklist_app = typer.Typer(help="Checklist items of the current gate.", no_args_is_help=True)
metric_app = typer.Typer(help="Metric readings (KPIs).", no_args_is_help=True)
gate_app = typer.Typer(
    help="Reviews, sign-offs and Stage-Gate decisions (Go, Conditional Go, Kill, Hold, Resume, "
    "Recycle).",
    no_args_is_help=True,
)
condition_app = typer.Typer(
    help="Conditions of a Conditional Go, which block the next gate until met.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The decision trail.", no_args_is_help=True)

ProductArg = Annotated[str, typer.Argument(metavar="ID", help="The product's id.")]
TRAIL_PAGE_MAX = 500


class StatusChoice(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    KILLED = "killed"


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


def _product_path(product_id: str, *rest: str) -> str:
    return "/".join(["/products", segment(product_id), *rest])


def register(app: typer.Typer) -> None:
    app.add_typer(product_app, name="product")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(checklist_app, name="checklist")
    app.add_typer(metric_app, name="metric")
    app.add_typer(gate_app, name="gate")
    app.add_typer(condition_app, name="condition")
    app.add_typer(audit_app, name="audit")
    app.command("approvals")(approvals)


# -- product ------------------------------------------------------------------------------------


@product_app.command("create")
def product_create(
    ctx: typer.Context,
    product_id: ProductArg,
    name: Annotated[str, typer.Option(help="Printed name.")],
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    owner: Annotated[
        str | None, typer.Option(help="Owner's subject (default: you).", show_default=False)
    ] = None,
    playbook: Annotated[str, typer.Option(help="Installed playbook to run under.")] = "default",
    output: OutputOption = None,
) -> None:
    """Register a product; it starts in discovery."""
    with session(ctx, output) as s:
        body = s.client.post(
            "/products",
            {
                "id": product_id,
                "name": name,
                "description": description,
                "owner": owner,
                "playbook": playbook,
            },
        )
        s.emit(
            body, lambda c: product_view.receipt(c, f"registered under playbook '{playbook}'", body)
        )


@product_app.command("list")
def product_list(
    ctx: typer.Context,
    stage: Annotated[Stage | None, typer.Option(help="Only products in this stage.")] = None,
    status: Annotated[StatusChoice | None, typer.Option(help="active, retired or killed.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only products this subject owns.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    output: OutputOption = None,
) -> None:
    """The portfolio, filtered."""
    with session(ctx, output) as s:
        params: dict[str, Any] = {
            "stage": stage.value if stage else None,
            "status": status.value if status else None,
            "owner": owner,
            "limit": limit,
            "offset": offset,
        }
        body = s.client.get("/products", params)
        found = body.get("products", [])

        def show(console: Console) -> None:
            product_view.product_list(console, found)
            if len(found) == limit:
                more = f"more may follow: lifecycle product list --offset {offset + limit} ..."
                console.print(render.text(more, "dim"))

        s.emit(body, show)


@product_app.command("show")
def product_show(ctx: typer.Context, product_id: ProductArg, output: OutputOption = None) -> None:
    """State, the current gate with every criterion (pass/fail and reason), the review: who
    signed, who is missing, when it is due; why the gate is blocked, hold and conditions."""
    with session(ctx, output) as s:
        body = s.client.get(_product_path(product_id))
        s.emit(body, lambda c: product_view.product_detail(c, body))


# -- evidence, checklist, metrics ---------------------------------------------------------------


@evidence_app.command("add")
def evidence_add(
    ctx: typer.Context,
    product_id: ProductArg,
    requirement: Annotated[str, typer.Argument(help="The gate's evidence key.")],
    title: Annotated[str, typer.Option(help="What this piece of evidence is.")],
    uri: Annotated[str, typer.Option(help="Where it lives.")] = "",
    summary: Annotated[str, typer.Option(help="What it shows.")] = "",
    output: OutputOption = None,
) -> None:
    """Submit evidence toward a requirement of the current gate."""
    with session(ctx, output) as s:
        body = s.client.post(
            _product_path(product_id, "evidence"),
            {"requirement": requirement, "title": title, "uri": uri, "summary": summary},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"evidence added to {requirement}", body))


ItemArg = Annotated[str, typer.Argument(help="The checklist item's key.")]


@checklist_app.command("done")
def checklist_done(
    ctx: typer.Context,
    product_id: ProductArg,
    item: ItemArg,
    note: Annotated[str, typer.Option(help="A note for the record.")] = "",
    output: OutputOption = None,
) -> None:
    """Tick an item (its owner role or the product owner)."""
    with session(ctx, output) as s:
        body = s.client.post(
            _product_path(product_id, "checklist", segment(item)), {"action": "done", "note": note}
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{item} done", body))


@checklist_app.command("reopen")
def checklist_reopen(
    ctx: typer.Context,
    product_id: ProductArg,
    item: ItemArg,
    reason: Annotated[str, typer.Option(help="Why it is not done after all.")],
    output: OutputOption = None,
) -> None:
    """Reopen a ticked item, with a reason."""
    with session(ctx, output) as s:
        body = s.client.post(
            _product_path(product_id, "checklist", segment(item)),
            {"action": "reopen", "note": reason},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{item} reopened", body))


def _observed_at(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise usage_error(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T09:30:00Z)", "--observed-at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without offset is the user's local time
    return moment.isoformat()


@metric_app.command("record")
def metric_record(
    ctx: typer.Context,
    product_id: ProductArg,
    metric: Annotated[str, typer.Argument(help="The playbook's metric key.")],
    value: Annotated[float, typer.Argument(help="The reading (put -- before a negative one).")],
    source: Annotated[str, typer.Option(help="Where the number comes from.")],
    observed_at: Annotated[
        str | None,
        typer.Option(
            help="When it was observed (ISO 8601; without an offset, your local time). "
            "Default: now.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Record a metric reading."""
    if not math.isfinite(value):
        raise usage_error(f"{value} is not a finite number", "VALUE")
    when = _observed_at(observed_at)
    with session(ctx, output) as s:
        body = s.client.post(
            _product_path(product_id, "metrics"),
            {"metric": metric, "value": value, "source": source, "observed_at": when},
        )
        s.emit(body, lambda c: product_view.receipt(c, f"{metric} = {render.number(value)}", body))


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
        body = s.client.post(_product_path(product_id, "gate", "review"), {"note": note})
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
            _product_path(product_id, "gate", "signoffs"),
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
            _product_path(product_id, "gate", "signoffs", "revoke"), {"reason": reason}
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
        body = s.client.post(_product_path(product_id, "gate", "decision"), request)

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
            _product_path(product_id, "conditions", segment(condition_id)), {"note": note}
        )
        s.emit(body, lambda c: product_view.receipt(c, f"condition {condition_id} met", body))


# -- audit, approvals ---------------------------------------------------------------------------


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    product_id: ProductArg,
    after: Annotated[int, typer.Option(min=0, help="Start after this stream version.")] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, max=TRAIL_PAGE_MAX, help="Events per page (default 50).", show_default=False
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every event, fetching all pages.")] = False,
    output: OutputOption = None,
) -> None:
    """The decision trail: who did what, when, in which role, and why."""
    if every and limit is not None:
        raise usage_error("--all fetches every page; leave out --limit", "--all/--limit")
    path = _product_path(product_id, "events")
    with session(ctx, output) as s:
        if every:
            events: list[Any] = []
            cursor: int | None = after
            while cursor is not None:
                page = s.client.get(path, {"after": cursor, "limit": TRAIL_PAGE_MAX})
                events.extend(page.get("events", []))
                cursor = page.get("next_after")
            body: dict[str, Any] = {"product_id": product_id, "events": events, "next_after": None}
        else:
            body = s.client.get(path, {"after": after, "limit": limit})

        def show(console: Console) -> None:
            trail_view.trail(console, product_id, body.get("events", []))
            if body.get("next_after") is not None:
                console.print(
                    render.text(
                        f"more: lifecycle audit log {product_id} --after {body['next_after']}"
                        " (or --all)",
                        "dim",
                    )
                )

        s.emit(body, show)


def approvals(ctx: typer.Context, output: OutputOption = None) -> None:
    """What waits for your sign-off (and for people who delegated to you): overdue first, then
    the oldest request, with its due date."""
    with session(ctx, output) as s:
        body = s.client.get("/approvals")
        s.emit(body, lambda c: approvals_view.approvals(c, body.get("pending", [])))
