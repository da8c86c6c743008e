"""The portfolio board: every product by stage, filtered by owner and gate status, and the
portfolio's figures (see ``api.web.portfolio`` for where each comes from)."""

from fastapi import APIRouter, Request, Response

from api.services import ApiServices
from api.web import views
from api.web.kit import WebRoute, all_states, services_of, sign_in_first, signed_in, web_of
from api.web.portfolio import portfolio
from store.trail import UnreadableEvent
from store.trail_analytics import PortfolioAnalytics

router = APIRouter(route_class=WebRoute, include_in_schema=False)


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
    trail, problem = await _trail_figures(request, services)
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
        },
        person=person,
    )


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
