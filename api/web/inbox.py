"""The approvals inbox: sign-offs and gate decisions waiting for the signed-in person."""

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response

from api.routes.approvals import ApprovalItem, my_approvals
from api.routes.products import decide_gate, sign_off
from api.schemas import CommandResult
from api.services import ApiServices
from api.web.kit import (
    PRODUCT_ID,
    Refusal,
    WebRoute,
    all_states,
    attempt,
    checked_form,
    services_of,
    sign_in_first,
    signed_in,
    text,
    web_of,
)
from api.web.product import decision_request, sign_off_request
from api.web.session import WebSession
from domain.commands import Verdict
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import Actor

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True)
class DecisionDue:
    product_id: str
    product_name: str
    gate: str
    gate_title: str
    leads_to: str
    since: datetime | None


async def decisions_waiting(services: ApiServices, person: Actor) -> list[DecisionDue]:
    """Gates whose every criterion holds, decided by a role the person holds."""
    waiting = []
    for state in await all_states(services, status="active"):
        gate = state.current_gate()
        evaluation = evaluate_current_gate(state)
        if gate is None or evaluation is None or state.on_hold or not evaluation.passed:
            continue
        if not any(person.holds(role) for role in gate.decider_roles):
            continue
        assert state.product_id is not None
        review = state.progress.review if state.progress else None
        waiting.append(
            DecisionDue(
                product_id=state.product_id,
                product_name=state.name,
                gate=evaluation.gate.value,
                gate_title=gate.title,
                leads_to=evaluation.leads_to.value,
                since=review.sign_offs[-1].signed_at if review and review.sign_offs else None,
            )
        )
    return waiting


def item_key(product_id: str, role: str, on_behalf_of: str | None) -> str:
    return f"{product_id}|{role}|{on_behalf_of or ''}"


async def inbox_page(
    request: Request,
    session: WebSession,
    person: Actor,
    refusal: Refusal | None = None,
    refused_key: str = "",
) -> Response:
    services = services_of(request)
    pending: list[ApprovalItem] = (await my_approvals(person, services)).pending
    keys = [item_key(i.product_id, i.role, i.on_behalf_of) for i in pending]
    decisions = await decisions_waiting(services, person)
    decision_keys = [f"decision|{d.product_id}" for d in decisions]
    inline = refusal is not None and refused_key in (*keys, *decision_keys)
    return web_of(request).render(
        request,
        session,
        "inbox.html",
        {
            "pending": list(zip(keys, pending, strict=True)),
            "decisions": decisions,
            "refusal": refusal,
            "refused_key": refused_key if inline else "",
            "now": services.clock(),
            "verdicts": [v.value for v in Verdict],
        },
        person=person,
        status=refusal.status if refusal else 200,
    )


@router.get("/inbox")
async def inbox(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    return await inbox_page(request, session, person)


@router.post("/inbox/signoffs")
async def inbox_sign(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    product_id = text(form, "product_id")
    if not PRODUCT_ID.match(product_id):
        return web.problem(request, session, 404, "Not found", "No such product.", person)
    services = services_of(request)
    results: list[CommandResult] = []

    async def sign() -> None:
        results.append(await sign_off(product_id, sign_off_request(form), person, services))

    refusal = await attempt(request, sign)
    if refusal is not None:
        key = item_key(product_id, text(form, "role"), text(form, "on_behalf_of") or None)
        return await inbox_page(request, session, person, refusal, key)
    session.say(f"Your {text(form, 'verdict')} on {product_id} is recorded." + moved(results))
    return web.redirect(request, session, "/inbox")


def moved(results: list[CommandResult]) -> str:
    """When a signature completed the gate and the engine passed it, say where the product is."""
    for result in results:
        if result.stage is not None and any(e.type == "StageEntered" for e in result.events):
            return f" The gate passed: {result.product_id} is now in {result.stage.value}."
    return ""


@router.post("/inbox/decisions")
async def inbox_decide(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    product_id = text(form, "product_id")
    if not PRODUCT_ID.match(product_id):
        return web.problem(request, session, 404, "Not found", "No such product.", person)
    services = services_of(request)
    refusal = await attempt(
        request, lambda: decide_gate(product_id, decision_request(form), person, services)
    )
    if refusal is not None:
        return await inbox_page(request, session, person, refusal, f"decision|{product_id}")
    session.say(f"Decision '{text(form, 'outcome')}' on {product_id} is recorded.")
    return web.redirect(request, session, "/inbox")
