"""The product page and its forms: evidence, checklist, metrics, review, sign-offs (and revoking
one's own), decision, and meeting a Conditional Go's conditions; its launch, growth and sunset
plans; its decision trail, filtered and paged; and, with `?as_of=`, the product as it stood at
a past instant, read-only.

A refused form comes back as the same page with the rule's message next to that form (the
`refused_at` slot); a refusal for a form the page does not show goes at the top.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from api.routes.products import (
    checklist_item,
    decide_gate,
    meet_condition,
    record_metric,
    request_review,
    revoke_sign_off,
    sign_off,
    submit_evidence,
)
from api.schemas import (
    ChecklistRequest,
    ConditionMetRequest,
    DecisionRequest,
    EvidenceRequest,
    MetricRequest,
    ReviewRequest,
    RevokeSignOffRequest,
    SignOffRequest,
)
from api.services import ApiServices
from api.web import views
from api.web.kit import (
    PRODUCT_ID,
    Refusal,
    WebRoute,
    attempt,
    checked_form,
    services_of,
    sign_in_first,
    signed_in,
    text,
    web_of,
)
from api.web.product_plans import plans_of
from api.web.product_query import EMPTY_TRAIL, PageQuery, page_query, past_state
from api.web.session import WebSession
from api.web.trail import BadCursor, BadFilter, cursors, page_link, parse_instant, trail_page
from domain.commands import GateOutcome
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import Actor
from domain.stages import LIFECYCLE_PATH
from domain.state import ProductState
from store.trail import EVENT_TYPES
from workflows.contracts import stream_id_for

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def product_page(
    request: Request,
    session: WebSession,
    person: Actor,
    product_id: str,
    refusal: Refusal | None = None,
    form_name: str = "",
    query: PageQuery | None = None,
) -> Response:
    web = web_of(request)
    services = services_of(request)
    query = query or PageQuery()
    as_of = query.as_of
    state = None
    if PRODUCT_ID.match(product_id) and as_of is not None:
        past = await past_state(request, session, person, product_id, as_of)
        if isinstance(past, Response):
            return past
        state = past
    elif PRODUCT_ID.match(product_id):
        await services.projection.catch_up()
        state = await services.projection.get_state(product_id)
    if state is None or not state.is_registered or state.stage is None:
        return web.problem(
            request,
            session,
            404,
            "No such product",
            f"No product '{product_id}' is registered.",
            person,
        )
    now = as_of or services.clock()
    evaluation = evaluate_current_gate(state)
    gate = state.current_gate()
    progress = state.progress
    review = progress.review if progress else None
    flt = query.filters.flt
    if as_of is not None and (flt.until is None or flt.until > as_of):
        flt = flt.model_copy(update={"until": as_of})
    trail = (
        EMPTY_TRAIL
        if query.filter_problem
        else await trail_page(
            services.events,
            stream_id_for(product_id),
            before=query.before,
            after=query.after,
            size=web.trail_size,
            flt=flt,
        )
    )
    delegations = []
    if services.delegations is not None and gate is not None and as_of is None:
        asked = {r.role for r in gate.sign_offs}
        delegations = [
            d
            for d in await services.delegations.active_received(person.subject, at=now)
            if d.role in asked
        ]
    playbook = state.playbook
    assert playbook is not None
    checklist = [
        (item, progress.checklist.get(item.key) if progress else None)
        for item in (gate.checklist if gate else ())
    ]
    metric_keys = [t.metric for t in gate.metrics] if gate else []
    metric_keys += [m.key for m in playbook.metrics if m.key not in metric_keys]
    current = LIFECYCLE_PATH.index(state.stage) if state.stage in LIFECYCLE_PATH else 0
    status = refusal.status if refusal else (400 if query.filter_problem else 200)
    mine = [s for s in review.sign_offs if s.signer.subject == person.subject] if review else []
    is_owner = person.subject == state.owner and as_of is None
    may_decide = bool(gate and any(person.holds(r) for r in gate.decider_roles))
    may_decide = may_decide and as_of is None
    slots = inline_slots(state, has_review=review is not None, revocable=bool(mine))
    slots |= {"decision"} if may_decide else set()
    kept = query.kept()
    return web.render(
        request,
        session,
        "product.html",
        {
            "state": state,
            "product_id": product_id,
            "card": views.card_for(state, now),
            "evaluation": evaluation,
            "gate": gate,
            "review": review,
            "evidence": list(progress.evidence) if progress else [],
            "checklist": checklist,
            "metric_keys": metric_keys,
            "metrics": sorted(state.metrics.values(), key=lambda m: m.metric),
            "signatures": views.signatures(state),
            "missing": views.missing_sign_offs(state),
            "sign_roles": [r.role for r in gate.sign_offs if person.holds(r.role)] if gate else [],
            "delegations": delegations,
            "may_decide": may_decide,
            "my_sign_offs": mine if as_of is None else [],
            "is_owner": is_owner,
            "outcomes": [o.value for o in GateOutcome],
            "recycle_stages": [s.value for s in LIFECYCLE_PATH[: current + 1]],
            "conditions": list(state.conditions),
            "plans": plans_of(state, now),
            "trail": trail,
            "trail_links": {
                "newer": page_link(kept, after=trail.newer) if trail.newer else "",
                "older": page_link(kept, before=trail.older) if trail.older else "",
                "latest": page_link(kept),
            },
            "filters": query.filters.raw,
            "filter_problem": query.filter_problem,
            "event_types": sorted(EVENT_TYPES),
            "as_of": as_of,
            "as_of_text": kept.get("as_of", ""),
            "refusal": refusal,
            "refused_at": form_name if form_name in slots else "",
            "now": now,
        },
        person=person,
        status=status,
    )


def inline_slots(state: ProductState, *, has_review: bool, revocable: bool) -> set[str]:
    """The forms this page shows, by the name a refusal of theirs is placed under."""
    gate = state.current_gate()
    slots = {"review", "metrics"} if gate else set()
    slots |= {"evidence"} if gate and gate.evidence else set()
    slots |= {"signoffs"} if has_review else set()
    slots |= {"revoke"} if revocable else set()
    slots |= {f"conditions|{c.condition_id}" for c in state.conditions if c.met_by is None}
    return slots


@router.get("/ui/products/{product_id}")
async def show_product(request: Request, product_id: str) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    params = request.query_params
    try:
        before, after = cursors(params.get("before"), params.get("after"))
    except BadCursor as bad:
        return web.problem(request, session, 400, "Bad page link", str(bad), person)
    as_of = None
    if params.get("as_of", "").strip():
        try:
            as_of = parse_instant("as_of", params["as_of"])
        except BadFilter as bad:
            return web.problem(request, session, 400, "Bad instant", str(bad), person)
        if await _ahead(request, product_id, as_of):
            message = f"as_of: {views.when(as_of)} has not happened yet; leave it out to see now."
            return web.problem(request, session, 400, "Bad instant", message, person)
    query = page_query(params, before, after, as_of)
    return await product_page(request, session, person, product_id, query=query)


async def _ahead(request: Request, product_id: str, instant: datetime) -> bool:
    """Whether `instant` is still to come. The product's last event counts as past even if
    the workflow's clock runs a little ahead of ours, so its "as it stood then" link works."""
    services = services_of(request)
    if instant <= services.clock():
        return False
    if not PRODUCT_ID.match(product_id):
        return True
    latest = await services.events.read_stream_page(stream_id_for(product_id), limit=1)
    return not latest or instant > latest[-1].recorded_at


ProductAction = Callable[[ApiServices, Actor, str, FormData], Awaitable[object]]


async def _evidence(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    body = EvidenceRequest(
        requirement=text(form, "requirement"),
        title=text(form, "title"),
        uri=text(form, "uri"),
        summary=text(form, "summary"),
    )
    return await submit_evidence(pid, body, person, services)


async def _checklist(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    body = ChecklistRequest.model_validate(
        {"action": text(form, "action") or "done", "note": text(form, "note")}
    )
    return await checklist_item(pid, text(form, "item"), body, person, services)


async def _metric(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    body = MetricRequest.model_validate(
        {
            "metric": text(form, "metric"),
            "value": text(form, "value"),
            "source": text(form, "source"),
        }
    )
    return await record_metric(pid, body, person, services)


async def _review(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    return await request_review(pid, ReviewRequest(note=text(form, "note")), person, services)


def sign_off_request(form: FormData) -> SignOffRequest:
    return SignOffRequest.model_validate(
        {
            "verdict": text(form, "verdict"),
            "role": text(form, "role") or None,
            "reason": text(form, "reason"),
            "on_behalf_of": text(form, "on_behalf_of") or None,
        }
    )


async def _sign(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    return await sign_off(pid, sign_off_request(form), person, services)


def decision_request(form: FormData) -> DecisionRequest:
    conditions = [line.strip() for line in text(form, "conditions").splitlines() if line.strip()]
    return DecisionRequest.model_validate(
        {
            "outcome": text(form, "outcome"),
            "reason": text(form, "reason"),
            "conditions": conditions,
            "recycle_to": text(form, "recycle_to") or None,
        }
    )


async def _decide(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    return await decide_gate(pid, decision_request(form), person, services)


async def _revoke(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    # Unvalidated on purpose: an empty reason reaches the domain, whose rule message
    # (signoff.reason_required) reads better than a schema error; the command still checks length.
    body = RevokeSignOffRequest.model_construct(reason=text(form, "reason"))
    return await revoke_sign_off(pid, body, person, services)


async def _meet(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    body = ConditionMetRequest(note=text(form, "note"))
    return await meet_condition(pid, text(form, "condition_id"), body, person, services)


PRODUCT_ACTIONS: dict[str, tuple[ProductAction, str]] = {
    "evidence": (_evidence, "Evidence added."),
    "checklist": (_checklist, "Checklist updated."),
    "metrics": (_metric, "Metric recorded."),
    "review": (_review, "Gate review requested; the approvers are asked."),
    "signoffs": (_sign, "Your sign-off is recorded."),
    "decision": (_decide, "Decision recorded."),
    "revoke": (_revoke, "Your sign-off is revoked; the gate waits for it again."),
    "conditions": (_meet, "Condition recorded as met."),
}


@router.post("/ui/products/{product_id}/{action}")
async def product_command(request: Request, product_id: str, action: str) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    known = PRODUCT_ACTIONS.get(action)
    if known is None or not PRODUCT_ID.match(product_id):
        return web.problem(request, session, 404, "Not found", "No such form.", person)
    run, done = known
    services = services_of(request)
    refusal = await attempt(request, lambda: run(services, person, product_id, form))
    if refusal is not None:
        slot = f"{action}|{text(form, 'condition_id')}" if action == "conditions" else action
        return await product_page(request, session, person, product_id, refusal, slot)
    session.say(done)
    return web.redirect(request, session, f"/ui/products/{product_id}")
