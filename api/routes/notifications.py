"""Stakeholder notifications, as the outbox recorded them: newest first, paged by time.

A product's notifications are open to anyone signed in (like its decision trail). The feed
across products shows an admin everything and anyone else what was addressed to one of their
roles or to them by name. Neither answers 404: no notifications is an empty list.

Dead letters (deliveries to a webhook or people channel that were refused or ran out of
retries) are for admins: they name the integration endpoints, and replaying one sends a
message to the outside world again.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.auth import ADMIN_ROLE, Caller, Services, require_role
from api.dead_letter_desk import DeadLetterDesk, ReplayRefused
from api.errors import ApiRefusal
from api.routes.products import REFUSALS, ProductIdPath
from domain.identity import Actor
from domain.notifications import NotificationKind
from store.dead_letters import RecordedDeadLetter, Replay
from store.notification_outbox import (
    MAX_LIST_LIMIT,
    Audience,
    NotificationOutbox,
    RecordedNotification,
)

router = APIRouter(tags=["notifications"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)]
RoleQuery = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9-]{0,47}$", max_length=48, description="Addressed to this role."),
]
BeforeQuery = Annotated[
    AwareDatetime | None,
    Query(description="Only notifications that occurred earlier (a page's `next_before`)."),
]
BeforeIdQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="With `before`: continue after this notification (`next_before_id`).",
    ),
]


class NotificationList(BaseModel):
    notifications: list[RecordedNotification]
    next_before: datetime | None = Field(
        default=None, description="Set when the page is full: pass as `before` for the next."
    )
    next_before_id: str | None = Field(
        default=None, description="Set when the page is full: pass as `before_id` for the next."
    )


def _outbox(services: Services) -> NotificationOutbox:
    if services.outbox is None:
        raise ApiRefusal(503, "notifications.unavailable", "notifications are not set up here")
    return services.outbox


def _page_start(before: datetime | None, before_id: str | None) -> None:
    if before_id is not None and before is None:
        raise ApiRefusal(
            422, "request.invalid", "invalid request: before_id needs before (its occurred_at)"
        )
    if before_id is not None and "\x00" in before_id:
        raise ApiRefusal(422, "request.invalid", "invalid request: before_id contains NUL")
    if before is not None:
        try:  # the database compares in UTC, where some times at the ends of the calendar
            before.astimezone(UTC)  # do not exist
        except OverflowError:
            raise ApiRefusal(
                422, "request.invalid", "invalid request: before is out of range"
            ) from None


def _page(notifications: list[RecordedNotification], limit: int) -> NotificationList:
    last = notifications[-1] if len(notifications) == limit else None
    return NotificationList(
        notifications=notifications,
        next_before=last.occurred_at if last else None,
        next_before_id=last.notification_id if last else None,
    )


def _audience(caller: Actor) -> Audience | None:
    if caller.holds(ADMIN_ROLE):
        return None
    return Audience(subject=caller.subject, roles=tuple(caller.roles))


@router.get("/products/{product_id}/notifications", responses=REFUSALS)
async def product_notifications(
    product_id: ProductIdPath,
    caller: Caller,
    services: Services,
    kind: NotificationKind | None = None,
    limit: Limit = 100,
    before: BeforeQuery = None,
    before_id: BeforeIdQuery = None,
) -> NotificationList:
    """What the product's stakeholders were told, newest first."""
    outbox = _outbox(services)
    _page_start(before, before_id)
    found = await outbox.list(
        product_id=product_id, kind=kind, limit=limit, before=before, before_id=before_id
    )
    return _page(found, limit)


@router.get("/notifications", responses=REFUSALS)
async def my_notifications(
    caller: Caller,
    services: Services,
    role: RoleQuery = None,
    kind: NotificationKind | None = None,
    limit: Limit = 100,
    before: BeforeQuery = None,
    before_id: BeforeIdQuery = None,
) -> NotificationList:
    """Notifications across products, newest first: every one for an admin, otherwise those
    addressed to one of your roles or to you."""
    outbox = _outbox(services)
    _page_start(before, before_id)
    found = await outbox.list(
        kind=kind,
        recipient_role=role,
        limit=limit,
        before=before,
        before_id=before_id,
        audience=_audience(caller),
    )
    return _page(found, limit)


DeadLetterIdPath = Annotated[
    str, Path(pattern=r"^[a-f0-9]{32}$", description="A dead letter's id (32 hex digits).")
]
_REPLAY_STATUS = {"dead_letter.not_found": 404, "dead_letter.already_replayed": 409}


class DeadLetterList(BaseModel):
    dead_letters: list[RecordedDeadLetter]


class ReplayStarted(BaseModel):
    """The delivery runs again in the background under the same `webhook-id`; if it fails
    again, a new dead letter appears with `replay_of` naming this one."""

    dead_letter: RecordedDeadLetter
    replay: Replay


def _desk(services: Services) -> DeadLetterDesk:
    if services.dead_letters is None:
        raise ApiRefusal(
            503, "notifications.unavailable", "notification delivery is not set up here"
        )
    return services.dead_letters


@router.get("/notifications/dead-letters", responses=REFUSALS)
async def dead_letters(
    caller: Caller,
    services: Services,
    include_replayed: bool = False,
    limit: Limit = 100,
) -> DeadLetterList:
    """Deliveries that were refused or ran out of retries, newest first (admins only); by
    default only those not replayed yet."""
    require_role(caller, ADMIN_ROLE)
    found = await _desk(services).store.list(include_replayed=include_replayed, limit=limit)
    return DeadLetterList(dead_letters=found)


@router.post(
    "/notifications/dead-letters/{dead_letter_id}/replay", status_code=202, responses=REFUSALS
)
async def replay_dead_letter(
    dead_letter_id: DeadLetterIdPath, caller: Caller, services: Services
) -> ReplayStarted:
    """Send a dead letter again (admins only, once per dead letter)."""
    require_role(caller, ADMIN_ROLE)
    try:
        letter, replay = await _desk(services).replay(
            dead_letter_id, by=caller.subject, at=services.clock()
        )
    except ReplayRefused as refused:
        raise ApiRefusal(_REPLAY_STATUS[refused.rule], refused.rule, refused.message) from None
    return ReplayStarted(dead_letter=letter, replay=replay)
