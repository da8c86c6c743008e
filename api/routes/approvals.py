"""The approvals inbox: what waits for the signed-in person, overdue first, then oldest."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import Caller, Services
from api.routes.products import REFUSALS
from domain.approvals import PendingSignOff, sign_offs_awaiting
from domain.identity import Actor
from domain.state import ProductState

router = APIRouter(tags=["approvals"])


class ApprovalItem(PendingSignOff):
    due_at: datetime | None = None
    overdue: bool = False
    on_behalf_of: str | None = None  # the principal, when waiting through a delegation
    on_behalf_of_name: str | None = None


class Approvals(BaseModel):
    pending: list[ApprovalItem]


def _items(
    state: ProductState, person: Actor, now: datetime, on_behalf_of: Actor | None = None
) -> list[ApprovalItem]:
    review = state.progress.review if state.progress else None
    due = review.due_at if review else None
    return [
        ApprovalItem(
            **item.model_dump(),
            due_at=due,
            overdue=due is not None and due <= now,
            on_behalf_of=on_behalf_of.subject if on_behalf_of else None,
            on_behalf_of_name=on_behalf_of.display_name if on_behalf_of else None,
        )
        for item in sign_offs_awaiting(state, person)
    ]


@router.get("/approvals", responses=REFUSALS)
async def my_approvals(caller: Caller, services: Services) -> Approvals:
    """Sign-offs you may give now, and those of people who delegated their role to you."""
    now = services.clock()
    await services.projection.catch_up()
    states = await services.projection.states_with_open_reviews()
    pending = [item for state in states for item in _items(state, caller, now)]
    if services.delegations is not None:
        for delegation in await services.delegations.active_received(caller.subject, at=now):
            principal = Actor(
                subject=delegation.principal,
                display_name=delegation.principal_name,
                roles=(delegation.role,),
            )
            for state in states:
                if (
                    state.progress
                    and state.progress.review
                    and (state.progress.review.requested_by.subject == caller.subject)
                ):
                    continue  # a delegation never lets you approve your own request
                pending += _items(state, principal, now, on_behalf_of=principal)
    pending.sort(key=lambda i: (not i.overdue, i.due_at or i.requested_at, i.product_id, i.role))
    return Approvals(pending=pending)
