"""Signing in with a pasted API token, and signing out."""

from fastapi import APIRouter, Request, Response

from api.web.kit import Refusal, WebRoute, checked_form, local_target, log, signed_in, text, web_of
from api.web.session import WebSession

router = APIRouter(route_class=WebRoute, include_in_schema=False)


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
