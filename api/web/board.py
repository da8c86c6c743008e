"""The portfolio board: every product by stage, filtered by owner and gate status, and the
portfolio's figures (see ``api.web.portfolio`` for where each comes from)."""

from datetime import UTC, datetime

import asyncpg
from fastapi import APIRouter, Request, Response

from api.services import ApiServices
from api.web import views
from api.web.kit import WebRoute, all_states, services_of, sign_in_first, signed_in, web_of
from api.web.portfolio import portfolio
from store.trail import UnreadableEvent
from store.trail_analytics import PortfolioAnalytics, portfolio_analytics
from store.trail_asof import states_as_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/")
async def board(request: Request) -> Response:
    web = web_of(request)
    session = web.codec.read(request)
    person = await signed_in(request, session)
    if person is None:
        return sign_in_first(request, session)
    services = services_of(request)
    try:
        as_of = instant_in(request.query_params.get("as_of", ""))
    except ValueError as error:
        return web.problem(request, session, 400, "Not an instant", str(error), person=person)
    if as_of is not None and services.audit_pool is None:
        message = "Looking back needs read access to the event log, which is not configured."
        return web.problem(request, session, 503, "Time travel unavailable", message, person=person)
    now = as_of or services.clock()
    if as_of is not None and services.audit_pool is not None:
        states = await states_as_of(services.audit_pool, as_of)
        trail, problem = await _trail_figures_as_of(services.audit_pool, as_of)
    else:
        states = await all_states(services)
        trail, problem = await _trail_figures(request, services)
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
            "portfolio": portfolio(states, trail, problem),
            "as_of": as_of,
        },
        person=person,
    )


def instant_in(text: str) -> datetime | None:
    """`?as_of=` as an aware instant (UTC when no offset is given); None when empty."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"as_of={text!r} is not an ISO 8601 date or date and time, e.g. 2026-03-01T12:00Z"
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _trail_figures_as_of(
    pool: asyncpg.Pool, as_of: datetime
) -> tuple[PortfolioAnalytics | None, str]:
    """Figures as they stood at `as_of`: read afresh (the cache follows the present)."""
    try:
        return await portfolio_analytics(pool, as_of, as_of), ""
    except UnreadableEvent as error:
        return None, str(error)


async def _trail_figures(
    request: Request, services: ApiServices
) -> tuple[PortfolioAnalytics | None, str]:
    """The trail's figures (cached per log head), or None and why not: the board still shows
    what the read model gives."""
    if services.audit_pool is None:
        return None, "reading the event log is not configured"
    try:
        return await web_of(request).analytics.current(services.audit_pool, services.clock()), ""
    except UnreadableEvent as error:
        return None, str(error)
