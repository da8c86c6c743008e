"""The decision trail across the portfolio, and the past as it stood at an instant.

`GET /trail` pages every product's events by global position; `GET /products/{id}/events`
(in `products.py`) pages one product's by stream version; both take the same filters, parsed
here. `as_of` on `GET /products/{id}` and `GET /products` folds the log up to an instant;
`GET /analytics` reads the portfolio's figures off the trail.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query

from api.auth import Caller, Services
from api.errors import ApiRefusal, ErrorBody
from api.services import ApiServices
from domain.gate_evaluation import evaluate_current_gate
from domain.review_clock import next_review_alarm
from domain.stages import Stage
from store.projections import ProductSummary
from store.trail import (
    EVENT_TYPES,
    MAX_PAGE,
    TrailFilter,
    TrailPage,
    UnreadableEvent,
    read_trail,
    stream_of,
)
from store.trail_analytics import PortfolioAnalytics, portfolio_analytics
from store.trail_asof import board_as_of, product_as_of
from workflows.contracts import ProductView

router = APIRouter(tags=["audit"])
REFUSALS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 422, 503)
}


def _utc(value: datetime | None, parameter: str = "as_of") -> datetime | None:
    """The instant in UTC, the log's own zone (taken as UTC when it has no offset); one that
    UTC cannot represent (year 9999 west of Greenwich) is refused naming the parameter."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ApiRefusal(
            422, "request.invalid", f"{parameter}: {value.isoformat()} is out of range"
        ) from None


@dataclass(frozen=True)
class TrailQuery:
    """The filters and page a trail request asks for, already checked."""

    flt: TrailFilter
    after: int
    limit: int


def trail_query(
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Cursor: the `next_after` of the page before.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    since: Annotated[datetime | None, Query(description="Recorded at or after (UTC).")] = None,
    until: Annotated[datetime | None, Query(description="Recorded at or before (UTC).")] = None,
    # No control characters: Postgres text cannot hold NUL, and no subject contains any.
    actor: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
    ] = None,
    event_type: Annotated[
        list[str] | None,
        Query(alias="type", max_length=32, description="Event type(s); repeat or comma-separate."),
    ] = None,
    gate: Annotated[
        Stage | None, Query(description="Events about the gate closing a stage.")
    ] = None,
) -> TrailQuery:
    types = tuple(sorted({t.strip() for value in event_type or () for t in value.split(",")}))
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ApiRefusal(
            422,
            "trail.unknown_event_type",
            f"type: no event type named {', '.join(repr(t) for t in unknown)}; known: "
            + ", ".join(sorted(EVENT_TYPES)),
        )
    since, until = _utc(since, "since"), _utc(until, "until")
    if since is not None and until is not None and since > until:
        raise ApiRefusal(
            422,
            "trail.empty_range",
            f"since ({since.isoformat()}) is after until ({until.isoformat()})",
        )
    flt = TrailFilter(since=since, until=until, actor=actor, types=types, gate=gate)
    return TrailQuery(flt=flt, after=after, limit=limit)


TrailParams = Annotated[TrailQuery, Depends(trail_query)]
AsOf = Annotated[
    datetime | None,
    Query(description="Show it as it stood at this instant (UTC if no offset is given)."),
]


def unreadable(error: UnreadableEvent) -> ApiRefusal:
    return ApiRefusal(409, "trail.unreadable_event", str(error))


def log_pool(services: ApiServices) -> asyncpg.Pool:
    if services.audit_pool is None:
        raise ApiRefusal(503, "audit.unavailable", "reading the event log is not configured")
    return services.audit_pool


@router.get("/trail", responses=REFUSALS)
async def portfolio_trail(
    caller: Caller,
    services: Services,
    query: TrailParams,
    product: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)
    ] = None,
) -> TrailPage:
    """Every product's events (or one product's) in log order, filtered, paged by position."""
    flt = query.flt.model_copy(update={"product_id": product})
    return await read_trail(log_pool(services), flt, after=query.after, limit=query.limit)


async def product_trail(services: ApiServices, product_id: str, query: TrailQuery) -> TrailPage:
    """One product's events, paged by stream version; 404 if it was never registered."""
    if await services.events.stream_version(stream_of(product_id)) == 0:
        raise ApiRefusal(404, "product.not_registered", f"product '{product_id}' is not registered")
    flt = query.flt.model_copy(update={"product_id": product_id})
    return await read_trail(
        log_pool(services), flt, after=query.after, limit=query.limit, cursor="stream_version"
    )


async def view_as_of(services: ApiServices, product_id: str, instant: datetime) -> ProductView:
    """What the product's workflow would have answered at ``instant``: its events up to then,
    folded, and the gate evaluated on that state."""
    try:
        state = await product_as_of(log_pool(services), product_id, _utc(instant) or instant)
    except UnreadableEvent as error:
        raise unreadable(error) from None
    if not state.is_registered:
        raise ApiRefusal(
            404,
            "product.not_registered",
            f"product '{product_id}' was not registered as of {instant.isoformat()}",
        )
    return ProductView(
        state=state, gate=evaluate_current_gate(state), next_review_alarm=next_review_alarm(state)
    )


async def portfolio_as_of(services: ApiServices, instant: datetime) -> list[ProductSummary]:
    try:
        return await board_as_of(log_pool(services), _utc(instant) or instant)
    except UnreadableEvent as error:
        raise unreadable(error) from None


@router.get("/analytics", responses=REFUSALS)
async def analytics(caller: Caller, services: Services, as_of: AsOf = None) -> PortfolioAnalytics:
    """Time in stage (median, p90), gate first-pass rate, approval latency per approver and
    role, products killed per stage: from the trail, now or as of an instant."""
    try:
        return await portfolio_analytics(log_pool(services), _utc(as_of), services.clock())
    except UnreadableEvent as error:
        raise unreadable(error) from None
