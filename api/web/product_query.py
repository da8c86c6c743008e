"""What the product page's query asks for beyond the product: a page of the decision trail,
its filters, and an instant in the past to show the product as of (read from the log, since the
live read model only knows now)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request, Response

from api.web import views
from api.web.kit import services_of, web_of
from api.web.session import WebSession
from api.web.trail import (
    FILTER_FIELDS,
    BadFilter,
    TrailFilters,
    TrailPage,
    instant_text,
    parse_filters,
)
from domain.identity import Actor
from domain.state import ProductState
from store.trail import UnreadableEvent
from store.trail_asof import product_as_of

EMPTY_TRAIL = TrailPage(entries=[], newer=None, older=None, paged=False)


@dataclass(frozen=True)
class PageQuery:
    """What the page's query asks for: a page of the trail, its filters (or the message naming
    the filter that could not be read), and an instant to show the product as of."""

    before: int | None = None
    after: int | None = None
    filters: TrailFilters = field(default_factory=TrailFilters)
    filter_problem: str = ""
    as_of: datetime | None = None

    def kept(self) -> dict[str, str]:
        """The query parameters every link within the page carries on."""
        kept = dict(self.filters.raw)
        if self.as_of is not None:
            kept["as_of"] = instant_text(self.as_of)
        return kept


async def past_state(
    request: Request, session: WebSession, person: Actor, product_id: str, as_of: datetime
) -> ProductState | Response:
    """The product as it stood at `as_of`, folded from the log, or the page saying why not."""
    web = web_of(request)
    pool = services_of(request).audit_pool
    if pool is None:
        return web.problem(
            request,
            session,
            503,
            "The past is not available",
            "Reading the event log is not configured, so the page cannot show a product as of "
            "an instant.",
            person,
        )
    try:
        state = await product_as_of(pool, product_id, as_of)
    except UnreadableEvent as error:
        return web.problem(request, session, 409, "The past cannot be shown", str(error), person)
    if not state.is_registered:
        return web.problem(
            request,
            session,
            404,
            "No such product then",
            f"No product '{product_id}' was registered as of {views.when(as_of)}.",
            person,
        )
    return state


def page_query(
    params: Mapping[str, str], before: int | None, after: int | None, as_of: datetime | None
) -> PageQuery:
    """The page's query; filters that cannot be read become the message shown at the form."""
    try:
        return PageQuery(before, after, parse_filters(params), as_of=as_of)
    except BadFilter as bad:
        typed = {name: params[name] for name in FILTER_FIELDS if params.get(name)}
        return PageQuery(filters=TrailFilters(raw=typed), filter_problem=str(bad), as_of=as_of)
