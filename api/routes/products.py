"""Products and their gates. Handlers are thin: authenticate, authorise, send, map."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import Caller, Services, require_role
from api.errors import ApiRefusal, ErrorBody
from api.idempotency import IdempotencyKey, update_id_for
from api.routes.trail import AsOf, TrailParams, portfolio_as_of, product_trail, view_as_of
from api.schemas import (
    ChecklistRequest,
    CommandResult,
    ConditionMetRequest,
    DecisionRequest,
    EvidenceRequest,
    MetricRequest,
    PlaybookRef,
    ProductDetail,
    ProductList,
    ProductSummaryOut,
    RegisterProductRequest,
    ReviewRequest,
    RevokeSignOffRequest,
    SignOffRequest,
    WaitingRole,
)
from api.sending import command_result, send_command
from api.services import ApiServices
from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GiveSignOff,
    MeetCondition,
    RecordMetric,
    RegisterProduct,
    ReopenChecklistItem,
    RequestGateReview,
    RevokeSignOff,
    SubmitEvidence,
)
from domain.delegation import Delegation
from domain.identity import Actor
from domain.stages import Stage
from store.trail import TrailPage

router = APIRouter(tags=["products"])
REGISTRAR_ROLES = ("product-manager", "admin")
ProductIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)]
ItemPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$", max_length=64)]
REFUSALS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 422, 503)
}


@router.post("/products", status_code=201, responses=REFUSALS)
async def register_product(
    body: RegisterProductRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Register a product under a playbook; it starts in discovery. Sent again with the same
    `Idempotency-Key` while the product runs, it answers the first registration again."""
    require_role(caller, *REGISTRAR_ROLES)
    playbook = services.playbooks.get(body.playbook)
    if playbook is None:
        known = ", ".join(sorted(services.playbooks)) or "none"
        raise ApiRefusal(
            422, "playbook.unknown", f"no playbook named '{body.playbook}'; installed: {known}"
        )
    owner = await _owner(services, caller, body.owner)
    command = RegisterProduct(
        actor=caller,
        product_id=body.id,
        name=body.name,
        description=body.description,
        owner=owner.subject,
        owner_name=owner.display_name,
        playbook=playbook,
    )
    update_id = update_id_for(caller.subject, body.id, idempotency_key)
    return command_result(await services.products.register(command, update_id=update_id))


async def _owner(services: ApiServices, caller: Actor, subject: str | None) -> Actor:
    if subject is None or subject == caller.subject:
        return caller
    user = await services.identity.get_user(subject)
    if user is None or user.disabled:
        raise ApiRefusal(422, "product.unknown_owner", f"no active user '{subject}' to own it")
    return Actor(subject=user.subject, display_name=user.display_name, roles=user.roles)


@router.get("/playbooks", responses=REFUSALS)
async def installed_playbooks(caller: Caller, services: Services) -> list[PlaybookRef]:
    """The playbooks products can register under (`playbook` in POST /products)."""
    return [
        PlaybookRef(name=p.name, version=p.version, fingerprint=p.fingerprint())
        for p in sorted(services.playbooks.values(), key=lambda p: p.name)
    ]


@router.get("/products", responses=REFUSALS)
async def list_products(
    caller: Caller,
    services: Services,
    stage: Stage | None = None,
    status: Annotated[str | None, Query(pattern="^(active|retired|killed)$")] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    as_of: AsOf = None,
) -> ProductList:
    """The portfolio, from the read model (caught up before answering); with `as_of`, folded
    from the log as it stood at that instant."""
    if as_of is not None:
        summaries = [
            s
            for s in await portfolio_as_of(services, as_of)
            if (stage is None or s.stage == stage)
            and (status is None or s.status == status)
            and (owner is None or s.owner == owner)
        ][offset : offset + limit]
    else:
        await services.projection.catch_up()
        summaries = await services.projection.list_products(
            stage=stage, status=status, owner=owner, limit=limit, offset=offset
        )
    return ProductList(
        products=[ProductSummaryOut.model_validate(s.model_dump()) for s in summaries]
    )


@router.get("/products/{product_id}", responses=REFUSALS)
async def show_product(
    product_id: ProductIdPath, caller: Caller, services: Services, as_of: AsOf = None
) -> ProductDetail:
    """State, current gate, every criterion with pass/fail and reason; with `as_of`, as they
    stood at that instant (folded from the log)."""
    if as_of is not None:
        view = await view_as_of(services, product_id, as_of)
    else:
        view = await services.products.view(product_id)
    now = as_of or services.clock()
    state = view.state
    if not state.is_registered or state.playbook is None or state.stage is None:
        raise ApiRefusal(404, "product.not_registered", f"product '{product_id}' is not registered")
    status = {Stage.RETIRED: "retired", Stage.KILLED: "killed"}.get(state.stage, "active")
    review = state.progress.review if state.progress else None
    gate = state.current_gate()
    waiting = [
        WaitingRole(
            role=r.role,
            approvals=len(review.approvals_in(r.role)),
            needed=r.min_approvals,
            optional=r.optional,
        )
        for r in (gate.sign_offs if gate and review else ())
        if review is not None and len(review.approvals_in(r.role)) < r.min_approvals
    ]
    blocked = [f"{c.title}: {c.reason}" for c in view.gate.unmet()] if view.gate else []
    if state.on_hold:
        blocked.insert(0, f"on hold: {state.hold_reason}")
    return ProductDetail(
        product_id=product_id,
        name=state.name,
        description=state.description,
        owner=state.owner,
        owner_name=state.owner_name,
        stage=state.stage,
        status=status,
        version=state.version,
        playbook=PlaybookRef(
            name=state.playbook.name,
            version=state.playbook.version,
            fingerprint=state.playbook_fingerprint,
        ),
        history=list(state.history),
        gate=view.gate,
        review=review,
        waiting_for=waiting,
        blocked_by=blocked,
        overdue=review is not None
        and review.due_at is not None
        and review.rejection() is None
        and (review.timed_out is not None or review.due_at <= now),
        on_hold=state.on_hold,
        hold_reason=state.hold_reason,
        killed_reason=state.killed_reason,
        conditions=list(state.conditions),
        next_review_alarm=view.next_review_alarm,
        metrics=state.metrics,
    )


@router.post("/products/{product_id}/evidence", responses=REFUSALS)
async def submit_evidence(
    product_id: ProductIdPath,
    body: EvidenceRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    command = SubmitEvidence(
        actor=caller,
        requirement=body.requirement,
        title=body.title,
        uri=body.uri,
        summary=body.summary,
    )
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/checklist/{item}", responses=REFUSALS)
async def checklist_item(
    product_id: ProductIdPath,
    item: ItemPath,
    body: ChecklistRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Tick an item (`done`) or reopen it with a reason (`reopen`)."""
    command: Command
    if body.action == "done":
        command = CompleteChecklistItem(actor=caller, item=item, note=body.note)
    else:
        command = ReopenChecklistItem(actor=caller, item=item, reason=body.note)
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/metrics", responses=REFUSALS)
async def record_metric(
    product_id: ProductIdPath,
    body: MetricRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    command = RecordMetric(
        actor=caller,
        metric=body.metric,
        value=body.value,
        source=body.source,
        observed_at=body.observed_at,
    )
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/gate/review", responses=REFUSALS)
async def request_review(
    product_id: ProductIdPath,
    body: ReviewRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Ask the gate's approvers to sign; starts a new review round."""
    return await send_command(
        services, product_id, RequestGateReview(actor=caller, note=body.note), idempotency_key
    )


@router.post("/products/{product_id}/gate/signoffs", responses=REFUSALS)
async def sign_off(
    product_id: ProductIdPath,
    body: SignOffRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Approve, reject or mark as reviewed the open review, in one of your roles, or for
    someone away under their delegation to you (`on_behalf_of`)."""
    delegation = None
    if body.on_behalf_of is not None:
        delegation = await _delegation(services, caller, body.on_behalf_of, body.role)
        role = delegation.role
    else:
        role = body.role or await _only_role_for_gate(services, product_id, caller)
        if not caller.holds(role):
            raise ApiRefusal(
                403, "signoff.role_not_held", f"{caller.display_name} does not hold role '{role}'"
            )
    command = GiveSignOff(
        actor=caller, role=role, verdict=body.verdict, reason=body.reason, delegation=delegation
    )
    return await send_command(services, product_id, command, idempotency_key)


async def _delegation(
    services: ApiServices, caller: Actor, principal: str, role: str | None
) -> Delegation:
    if services.delegations is None:
        raise ApiRefusal(503, "delegations.unavailable", "delegations are not configured")
    now = services.clock()
    if role is not None:
        found = await services.delegations.active_for(caller.subject, principal, role, now)
        candidates = [found] if found else []
    else:
        received = await services.delegations.active_received(caller.subject, at=now)
        candidates = [d for d in received if d.principal == principal]
    if not candidates:
        raise ApiRefusal(
            403,
            "signoff.no_delegation",
            f"{caller.display_name} holds no active delegation from '{principal}'"
            + (f" for role '{role}'" if role else ""),
        )
    if len(candidates) > 1:
        roles = ", ".join(d.role for d in candidates)
        raise ApiRefusal(
            422, "signoff.role_ambiguous", f"'{principal}' delegated {roles}; say which role"
        )
    return candidates[0]


@router.post("/products/{product_id}/gate/signoffs/revoke", responses=REFUSALS)
async def revoke_sign_off(
    product_id: ProductIdPath,
    body: RevokeSignOffRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Withdraw your sign-off (and any you gave for others) while the gate is undecided."""
    return await send_command(
        services, product_id, RevokeSignOff(actor=caller, reason=body.reason), idempotency_key
    )


async def _only_role_for_gate(services: ApiServices, product_id: str, caller: Actor) -> str:
    gate = (await services.products.view(product_id)).state.current_gate()
    asked = [s.role for s in gate.sign_offs] if gate else []
    held = [role for role in asked if caller.holds(role)]
    if len(held) == 1:
        return held[0]
    if not held:
        raise ApiRefusal(
            403,
            "signoff.role_not_held",
            f"{caller.display_name} holds none of the roles this gate asks to sign: "
            + (", ".join(asked) or "none"),
        )
    raise ApiRefusal(
        422, "signoff.role_ambiguous", f"you hold {', '.join(held)}; say which role you sign in"
    )


@router.post("/products/{product_id}/gate/decision", responses=REFUSALS)
async def decide_gate(
    product_id: ProductIdPath,
    body: DecisionRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Go, Conditional Go (with `conditions`), Kill, Hold, Resume or Recycle (with
    `recycle_to`), with a reason, by a holder of one of the gate's decider roles."""
    command = DecideGate(
        actor=caller,
        outcome=body.outcome,
        reason=body.reason,
        conditions=tuple(body.conditions),
        recycle_to=body.recycle_to,
    )
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/conditions/{condition_id}", responses=REFUSALS)
async def meet_condition(
    product_id: ProductIdPath,
    condition_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")],
    body: ConditionMetRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Record a condition of a Conditional Go as met (the product owner)."""
    command = MeetCondition(actor=caller, condition_id=condition_id, note=body.note)
    return await send_command(services, product_id, command, idempotency_key)


@router.get("/products/{product_id}/events", responses=REFUSALS)
async def decision_trail(
    product_id: ProductIdPath, caller: Caller, services: Services, query: TrailParams
) -> TrailPage:
    """The product's events in order, filtered like `GET /trail`, paged by stream version
    (`after`); sign-offs and decisions carry their signature manifestation."""
    return await product_trail(services, product_id, query)
