"""The approvals inbox: what waits for the signed-in person, oldest request first."""

from fastapi import APIRouter

from api.auth import Caller, Services
from api.routes.products import REFUSALS
from api.schemas import Approvals
from domain.approvals import sign_offs_awaiting

router = APIRouter(tags=["approvals"])


@router.get("/approvals", responses=REFUSALS)
async def my_approvals(caller: Caller, services: Services) -> Approvals:
    await services.projection.catch_up()
    states = await services.projection.states_with_open_reviews()
    pending = [item for state in states for item in sign_offs_awaiting(state, caller)]
    pending.sort(key=lambda item: (item.requested_at, item.product_id, item.role))
    return Approvals(pending=pending)
