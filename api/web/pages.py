"""Server-rendered pages for the people who sign: board, product page, approvals inbox.

Paths (none clashes with the JSON API, which keeps its own):
  GET  /                               portfolio board (?owner=&status=)
  GET  /signin, POST /signin           paste an API token; POST /signout
  GET  /inbox                          sign-offs and decisions waiting for you
  POST /inbox/signoffs, /inbox/decisions
  GET  /ui/products/{id}               the product page (JSON stays at GET /products/{id})
  POST /ui/products/{id}/evidence | checklist | metrics | review | signoffs | decision
  GET  /static/web.css

Pages authenticate with the session cookie only (never a bearer header), so CSRF protection
covers every way a browser can change state. Commands go through the same route functions as
the JSON API, so roles, delegation and the domain's rules are checked exactly once, the same way.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.types import Scope
from temporalio.service import RPCError, RPCStatusCode

from api.auth import authenticated_actor
from api.errors import STATUS_FOR_KIND, ApiRefusal, error_response
from api.routes.approvals import ApprovalItem, my_approvals
from api.routes.products import (
    checklist_item,
    decide_gate,
    record_metric,
    request_review,
    sign_off,
    submit_evidence,
)
from api.schemas import (
    ChecklistRequest,
    DecisionRequest,
    EvidenceRequest,
    MetricRequest,
    ReviewRequest,
    SignOffRequest,
)
from api.services import ApiServices
from api.web import views
from api.web.session import (
    CSRF_FIELD,
    SessionCodec,
    WebSession,
    add_security_headers,
    same_origin,
)
from domain.commands import GateOutcome, Verdict
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import Actor
from domain.refusals import CommandRefused
from domain.stages import LIFECYCLE_PATH
from domain.state import ProductState
from workflows.contracts import stream_id_for

log = structlog.get_logger("lifecycle.web")
HERE = Path(__file__).parent
PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Refusal:
    status: int
    rule: str
    message: str


class Web:
    """What every page needs: the session codec and the templates."""

    def __init__(self, session_secret: str) -> None:
        self.codec = SessionCodec(session_secret)
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        environment.filters["when"] = views.when
        environment.filters["web_link"] = views.web_link
        self.templates = Jinja2Templates(env=environment)

    def render(
        self,
        request: Request,
        session: WebSession,
        template: str,
        context: dict[str, Any],
        *,
        person: Actor | None = None,
        status: int = 200,
    ) -> Response:
        page = {
            "person": person,
            "csrf": session.csrf,
            "csrf_field": CSRF_FIELD,
            "notice": session.take_notice(),
            "path": request.url.path,
            **context,
        }
        response = self.templates.TemplateResponse(request, template, page, status_code=status)
        self.keep(request, response, session)
        return response

    def keep(self, request: Request, response: Response, session: WebSession) -> None:
        if session.changed:
            self.codec.write(request, response, session)

    def redirect(self, request: Request, session: WebSession, to: str) -> Response:
        response = RedirectResponse(to, status_code=303)
        self.keep(request, response, session)
        return response

    def problem(
        self,
        request: Request,
        session: WebSession,
        status: int,
        title: str,
        message: str,
        person: Actor | None = None,
    ) -> Response:
        return self.render(
            request,
            session,
            "error.html",
            {"title": title, "message": message, "status": status},
            person=person,
            status=status,
        )


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def services_of(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


class WebRoute(APIRoute):
    """Every page answer carries the security headers; the workflow service being away is
    an HTML page too, not the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except RPCError as error:
                if error.status not in _UNAVAILABLE:
                    raise
                web = web_of(request)
                response = web.problem(
                    request,
                    web.codec.read(request),
                    503,
                    "Temporarily unavailable",
                    "The workflow service is unavailable. Nothing was changed; try again.",
                )
            return add_security_headers(response)

        return handler


class SecureStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return add_security_headers(response, private=False)


router = APIRouter(route_class=WebRoute, include_in_schema=False)


def install_web(app: FastAPI, *, session_secret: str | None = None) -> None:
    import secrets

    app.state.web = Web(session_secret or secrets.token_urlsafe(32))
    app.include_router(router)
    app.mount("/static", SecureStatic(directory=HERE / "static"), name="web-static")


# -- who is asking ----------------------------------------------------------------------------


async def signed_in(request: Request, session: WebSession) -> Actor | None:
    """The person behind the session's token, checked again now; None when signed out."""
    if session.token is None:
        return None
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=session.token)
    try:
        return await authenticated_actor(request, services_of(request), credentials)
    except ApiRefusal as refusal:
        session.token = None
        session.say(f"Your session ended: {refusal.message}. Sign in again.")
        return None


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def sign_in_first(request: Request, session: WebSession) -> Response:
    """Browsers go to the sign-in page; API clients get the API's JSON 401."""
    if not wants_html(request):
        response: Response = error_response(
            401,
            "auth.sign_in",
            "this is a web page; sign in at /signin, or use the JSON API with a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
        return response
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return web_of(request).redirect(request, session, f"/signin?next={quote(target)}")


def local_target(target: object) -> str:
    """Only a path on this site, so the sign-in page cannot redirect anywhere else."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and "\n" not in target
        and "\r" not in target
    ):
        return target
    return "/"


async def checked_form(request: Request, session: WebSession) -> FormData | Response:
    """The posted form, once its CSRF token matches the session's and it comes from here."""
    try:
        form = await request.form()
    except Exception:
        return web_of(request).problem(
            request, session, 400, "Unreadable form", "The form could not be read."
        )
    if not same_origin(request) or not session.csrf_matches(form.get(CSRF_FIELD)):
        log.warning(
            "security.refused",
            status=403,
            rule="web.csrf",
            path=request.url.path,
            method=request.method,
        )
        return web_of(request).problem(
            request,
            session,
            403,
            "Form refused",
            "This form was not sent from a page of this session (missing or wrong CSRF token)."
            " Nothing was changed. Reload the page and try again.",
        )
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def attempt(request: Request, action: Callable[[], Awaitable[object]]) -> Refusal | None:
    """Runs a command; a refusal comes back as data for the page to show."""
    try:
        await action()
    except CommandRefused as refused:
        refusal = Refusal(STATUS_FOR_KIND[refused.kind], refused.rule, refused.message)
    except ApiRefusal as refused:
        refusal = Refusal(refused.status, refused.rule, refused.message)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}"
            for e in invalid.errors()[:5]
        )
        refusal = Refusal(422, "request.invalid", f"invalid form: {problems}")
    else:
        return None
    if refusal.status in (401, 403):
        log.warning(
            "security.refused",
            status=refusal.status,
            rule=refusal.rule,
            reason=refusal.message,
            path=request.url.path,
            subject=getattr(request.state, "subject", None),
        )
    return refusal


# -- sign in and out --------------------------------------------------------------------------


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    target = local_target(request.query_params.get("next", "/"))
    if await signed_in(request, session) is not None:
        return web.redirect(request, session, target)
    return web.render(request, session, "signin.html", {"next": target, "problem": None})


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    target = local_target(form.get("next"))
    token = text(form, "token")
    problem = None
    if not token:
        problem = Refusal(422, "auth.missing_token", "paste your API token (lc_...)")
    elif len(token) > 8192:
        problem = Refusal(422, "auth.token_malformed", "that is not an API token")
    else:
        fresh = WebSession(token=token, changed=True)  # a new CSRF token for the new session
        person = await signed_in(request, fresh)
        if person is not None:
            fresh.say(f"Signed in as {person.display_name}.")
            return web.redirect(request, fresh, target)
        problem = Refusal(401, "auth.rejected", _why_rejected(fresh.notice))
        log.warning("security.refused", status=401, rule="web.signin", path=request.url.path)
    return web.render(
        request,
        session,
        "signin.html",
        {"next": target, "problem": problem},
        status=problem.status,
    )


def _why_rejected(notice: str | None) -> str:
    message = (notice or "").removeprefix("Your session ended: ").removesuffix(" Sign in again.")
    return f"Sign-in refused: {message.rstrip('.')}." if message else "Sign-in refused."


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    fresh = WebSession(changed=True)
    fresh.say("Signed out.")
    return web.redirect(request, fresh, "/signin")


# -- the board --------------------------------------------------------------------------------


async def all_states(services: ApiServices, status: str | None = None) -> list[ProductState]:
    await services.projection.catch_up()
    summaries = await services.projection.list_products(status=status, limit=_PAGE_SIZE)
    states = await asyncio.gather(*(services.projection.get_state(s.product_id) for s in summaries))
    return [s for s in states if s is not None and s.is_registered and s.stage is not None]


@router.get("/")
async def board(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    services = services_of(request)
    now = services.clock()
    states = await all_states(services)
    cards = [views.card_for(state, now) for state in states]
    owner = request.query_params.get("owner", "")
    status = request.query_params.get("status", "")
    shown = [
        (card, state)
        for card, state in zip(cards, states, strict=True)
        if (not owner or card.owner == owner) and (not status or card.status.key == status)
    ]
    columns = [
        (stage, sorted((c for c, _ in shown if c.stage == stage), key=lambda c: c.name.lower()))
        for stage in views.BOARD_STAGES
    ]
    return web.render(
        request,
        session,
        "board.html",
        {
            "columns": columns,
            "owners": views.owners(cards),
            "statuses": views.GATE_STATUSES,
            "owner": owner,
            "status": status,
            "total": len(cards),
            "shown": len(shown),
            "chart": views.stage_duration_chart((s for _, s in shown), now),
        },
        person=person,
    )


# -- the product page -------------------------------------------------------------------------


async def product_page(
    request: Request,
    session: WebSession,
    person: Actor,
    product_id: str,
    refusal: Refusal | None = None,
    form_name: str = "",
) -> Response:
    web = web_of(request)
    services = services_of(request)
    state = None
    if PRODUCT_ID.match(product_id):
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
    now = services.clock()
    evaluation = evaluate_current_gate(state)
    gate = state.current_gate()
    progress = state.progress
    review = progress.review if progress else None
    events = await services.events.read_stream(stream_id_for(product_id))
    delegations = []
    if services.delegations is not None and gate is not None:
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
    status = refusal.status if refusal else 200
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
            "may_decide": bool(gate and any(person.holds(r) for r in gate.decider_roles)),
            "outcomes": [o.value for o in GateOutcome],
            "recycle_stages": [s.value for s in LIFECYCLE_PATH[: current + 1]],
            "conditions": list(state.conditions),
            "timeline": [views.timeline_entry(e.data, e.recorded_at) for e in reversed(events)],
            "refusal": refusal,
            "form_name": form_name,
            "now": now,
        },
        person=person,
        status=status,
    )


@router.get("/ui/products/{product_id}")
async def show_product(request: Request, product_id: str) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    return await product_page(request, session, person, product_id)


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


def _sign_off_request(form: FormData) -> SignOffRequest:
    return SignOffRequest.model_validate(
        {
            "verdict": text(form, "verdict"),
            "role": text(form, "role") or None,
            "reason": text(form, "reason"),
            "on_behalf_of": text(form, "on_behalf_of") or None,
        }
    )


async def _sign(services: ApiServices, person: Actor, pid: str, form: FormData) -> object:
    return await sign_off(pid, _sign_off_request(form), person, services)


def _decision_request(form: FormData) -> DecisionRequest:
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
    return await decide_gate(pid, _decision_request(form), person, services)


PRODUCT_ACTIONS: dict[str, tuple[ProductAction, str]] = {
    "evidence": (_evidence, "Evidence added."),
    "checklist": (_checklist, "Checklist updated."),
    "metrics": (_metric, "Metric recorded."),
    "review": (_review, "Gate review requested; the approvers are asked."),
    "signoffs": (_sign, "Your sign-off is recorded."),
    "decision": (_decide, "Decision recorded."),
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
        return await product_page(request, session, person, product_id, refusal, action)
    session.say(done)
    return web.redirect(request, session, f"/ui/products/{product_id}")


# -- the approvals inbox ----------------------------------------------------------------------


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
    refusal = await attempt(
        request, lambda: sign_off(product_id, _sign_off_request(form), person, services)
    )
    if refusal is not None:
        key = item_key(product_id, text(form, "role"), text(form, "on_behalf_of") or None)
        return await inbox_page(request, session, person, refusal, key)
    session.say(f"Your {text(form, 'verdict')} on {product_id} is recorded.")
    return web.redirect(request, session, "/inbox")


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
        request, lambda: decide_gate(product_id, _decision_request(form), person, services)
    )
    if refusal is not None:
        return await inbox_page(request, session, person, refusal, f"decision|{product_id}")
    session.say(f"Decision '{text(form, 'outcome')}' on {product_id} is recorded.")
    return web.redirect(request, session, "/inbox")
