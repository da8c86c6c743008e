"""Moving running products to the installed version of their playbook, dry run first.

The installed catalog holds one version per playbook name. A migration request names the
playbook; the answer lists every active product on an older version (and not already scheduled
to move to this one) with the criteria of its current gate that the new version would change and
whether the product's gatekeeper rules would accept the move from the caller, at most
``MAX_PRODUCTS`` of them, with the count of the rest and the cursor that asks for them.
Nothing changes unless `apply` is true; then each product gets an `AdoptPlaybook` command of its
own, decided and audited by its workflow.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.auth import Caller, Services
from api.errors import ApiRefusal, ErrorBody
from api.services import ApiServices
from domain.commands import AdoptPlaybook
from domain.decide import decide
from domain.events import PlaybookAdopted
from domain.identity import ProductId
from domain.playbook import Playbook
from domain.playbook_changes import CriterionChange, criteria_changes
from domain.refusals import CommandRefused
from domain.stages import Stage
from domain.state import ProductState

router = APIRouter(tags=["playbooks"])
REFUSALS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 422, 503)
}
PlaybookNamePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$", max_length=64)]
# One request handles at most this many products, the first by product id (after `after`); the
# report says how many more wait and the `next_after` to pass for them.
MAX_PRODUCTS = 500


class PlaybookMigrationRequest(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    effective: Literal["next_stage", "now"] = "next_stage"
    apply: bool = False
    to_version: Annotated[int, Field(ge=1)] | None = None  # must be the installed version
    products: Annotated[list[str], Field(max_length=MAX_PRODUCTS)] | None = None
    after: ProductId | None = None  # only products whose id sorts after this one


Outcome = Literal["would_apply", "would_be_refused", "applied", "refused"]


class ProductMigration(BaseModel):
    product_id: str
    name: str
    stage: Stage
    from_version: int
    outcome: Outcome
    changes: list[CriterionChange]
    rule: str | None = None  # when refused: the rule and its message
    message: str | None = None


class PlaybookMigrationReport(BaseModel):
    playbook: str
    to_version: int
    effective: Literal["next_stage", "now"]
    dry_run: bool
    products: list[ProductMigration]
    remaining: int = 0  # candidates beyond this request's MAX_PRODUCTS, not handled by it
    next_after: str | None = None  # the `after` that asks for them


@router.post("/playbooks/{name}/migrations", responses=REFUSALS)
async def migrate_playbook(
    name: PlaybookNamePath, body: PlaybookMigrationRequest, caller: Caller, services: Services
) -> PlaybookMigrationReport:
    """Dry run by default: what moving each product to the installed version would change."""
    target = _installed(services, name, body.to_version)
    candidates = [
        state
        for state in await _candidates(services, target, body.products)
        if body.after is None or (state.product_id or "") > body.after
    ]
    handled = candidates[:MAX_PRODUCTS]
    command = AdoptPlaybook(
        actor=caller, playbook=target, effective=body.effective, reason=body.reason
    )
    report: list[ProductMigration] = []
    for state in handled:
        if body.apply:
            report.append(await _apply(services, state, command))
        else:
            report.append(_preview(state, command, services.clock()))
    return PlaybookMigrationReport(
        playbook=name,
        to_version=target.version,
        effective=body.effective,
        dry_run=not body.apply,
        products=report,
        remaining=len(candidates) - len(handled),
        next_after=handled[-1].product_id if len(candidates) > len(handled) else None,
    )


def _installed(services: ApiServices, name: str, version: int | None) -> Playbook:
    playbook = services.playbooks.get(name)
    if playbook is None:
        known = ", ".join(sorted(services.playbooks)) or "none"
        raise ApiRefusal(404, "playbook.unknown", f"no playbook named '{name}'; installed: {known}")
    if version is not None and version != playbook.version:
        raise ApiRefusal(
            422,
            "playbook.version_not_installed",
            f"playbook '{name}' version {version} is not installed; "
            f"the installed version is {playbook.version}",
        )
    return playbook


async def _candidates(
    services: ApiServices, target: Playbook, wanted: list[str] | None
) -> list[ProductState]:
    """Active products on an older version of the playbook (or the ones named), by product id,
    from the whole portfolio."""
    await services.projection.catch_up()
    states = await services.projection.every_state(status="active")
    found = [
        s
        for s in states
        if s.playbook is not None
        and s.playbook.name == target.name
        and (wanted is not None or _newest_version(s) < target.version)
        and (wanted is None or s.product_id in wanted)
    ]
    if wanted is not None:
        missing = sorted(set(wanted) - {s.product_id for s in found})
        if missing:
            raise ApiRefusal(
                404,
                "playbook.products_not_found",
                f"no active product on playbook '{target.name}' with id {', '.join(missing)}",
            )
    return found


def _newest_version(state: ProductState) -> int:
    """The version the product runs, or the one it adopts at its next stage: a product already
    scheduled to move is not offered the move again."""
    assert state.playbook is not None
    pending = state.pending_playbook
    return max(state.playbook.version, pending.version if pending else 0)


def _line(
    state: ProductState,
    outcome: Outcome,
    changes: tuple[CriterionChange, ...],
    refused: CommandRefused | None = None,
) -> ProductMigration:
    assert state.product_id is not None
    assert state.stage is not None
    assert state.playbook is not None
    return ProductMigration(
        product_id=state.product_id,
        name=state.name,
        stage=state.stage,
        from_version=state.playbook.version,
        outcome=outcome,
        changes=list(changes),
        rule=refused.rule if refused else None,
        message=refused.message if refused else None,
    )


def _preview(state: ProductState, command: AdoptPlaybook, now: datetime) -> ProductMigration:
    changes = criteria_changes(state, command.playbook)
    try:
        decide(state, command, now, _preview_ids())
    except CommandRefused as refused:
        return _line(state, "would_be_refused", changes, refused)
    return _line(state, "would_apply", changes)


async def _apply(
    services: ApiServices, state: ProductState, command: AdoptPlaybook
) -> ProductMigration:
    assert state.product_id is not None
    try:
        receipt = await services.products.execute(state.product_id, command)
    except CommandRefused as refused:
        return _line(state, "refused", criteria_changes(state, command.playbook), refused)
    adopted = [e for e in receipt.events if isinstance(e, PlaybookAdopted)]
    changes = adopted[0].changes if adopted else criteria_changes(state, command.playbook)
    return _line(state, "applied", changes)


def _preview_ids() -> Callable[[], str]:
    counter = iter(range(1_000_000))
    return lambda: f"preview-{next(counter)}"
