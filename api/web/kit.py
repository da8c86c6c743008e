"""What every page handler shares: the templates and session codec, the security-header route,
who is asking, the CSRF-checked form, and running a command whose refusal becomes page data.
"""

import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import structlog
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.types import Scope
from temporalio.service import RPCError

from api.auth import authenticated_actor
from api.errors import STATUS_FOR_KIND, ApiRefusal, error_response, unavailable
from api.services import ApiServices
from api.web import views
from api.web.origin import public_origin, same_origin
from api.web.session import CSRF_FIELD, SessionCodec, WebSession, add_security_headers
from api.web.trail import TRAIL_PAGE_SIZE
from domain.identity import Actor
from domain.refusals import CommandRefused
from domain.state import ProductState
from store.projections import ProjectionError
from store.trail_analytics import AnalyticsCache

log = structlog.get_logger("lifecycle.web")
HERE = Path(__file__).parent
PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Refusal:
    status: int
    rule: str
    message: str


class Web:
    """What every page needs: the session codec and the templates."""

    def __init__(self, session_secret: str) -> None:
        self.codec = SessionCodec(session_secret)
        self.trail_size = TRAIL_PAGE_SIZE
        self.public_origin: str | None = None
        self.analytics = AnalyticsCache()  # the board's first-pass rates, per log head
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

    def serve_at(self, origin: str) -> None:
        """Behind a reverse proxy: forms from `origin` pass the origin check, and the session
        cookie is Secure when `origin` is https. Raises ValueError for a malformed origin."""
        self.public_origin = public_origin(origin)
        self.codec.always_secure = self.public_origin.startswith("https://")

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
                answer = unavailable(error)
                if answer is None:
                    raise
                web = web_of(request)
                response = web.problem(
                    request,
                    web.codec.read(request),
                    503,
                    "Temporarily unavailable",
                    f"{answer[1].capitalize()}. Try again in a moment.",
                )
            except ProjectionError as error:
                response = _stalled(request, error)
            return add_security_headers(response)

        return handler


def _stalled(request: Request, error: ProjectionError) -> Response:
    """The read model stops at an event it cannot fold rather than skip a decision; the pages
    say so, naming the event, instead of failing with a bare server error."""
    log.error("web.read_model_stalled", position=error.position, stream_id=error.stream_id)
    web = web_of(request)
    return web.problem(
        request,
        web.codec.read(request),
        503,
        "Read model stalled",
        f"The portfolio cannot be brought up to date: the event at position {error.position}"
        f" ({error.stream_id}) cannot be read. Nothing was changed. An operator fixes the cause"
        " and runs `lifecycle projections rebuild`.",
    )


class SecureStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return add_security_headers(response, private=False)


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
    public = web_of(request).public_origin
    if not same_origin(request, public) or not session.csrf_matches(form.get(CSRF_FIELD)):
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


async def all_states(services: ApiServices, status: str | None = None) -> list[ProductState]:
    """Every product's state from the read model, however many products (parsing again only
    those written since the last load, ``store/parsed_states.py``)."""
    await services.projection.catch_up()
    states = await services.projection.every_state(status=status)
    return [s for s in states if s.is_registered and s.stage is not None]
