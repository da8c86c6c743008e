"""What waits for a person: the sign-offs they may give now. An inbox is only useful if it
never lists a request the domain would refuse, so it applies the same rules as `decide`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.identity import Actor, ActorRef
from domain.stages import Stage
from domain.state import ProductState


class PendingSignOff(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    product_name: str
    gate: Stage
    gate_title: str
    round: int
    role: str
    approvals: int
    needed: int
    requested_by: ActorRef
    requested_at: datetime


def sign_offs_awaiting(state: ProductState, actor: Actor) -> list[PendingSignOff]:
    gate = state.current_gate()
    progress = state.progress
    if gate is None or progress is None or progress.review is None or state.stage is None:
        return []
    review = progress.review
    if state.on_hold:  # only Resume and Kill are accepted until the hold is lifted
        return []
    if review.rejection() is not None or review.has_signed(actor.subject):
        return []
    if review.requested_by.subject == actor.subject:
        return []
    if not gate.review.owner_may_sign and actor.subject == state.owner:
        return []
    assert state.product_id is not None
    pending = []
    for requirement in gate.sign_offs:
        approvals = len(review.approvals_in(requirement.role))
        if actor.holds(requirement.role) and approvals < requirement.min_approvals:
            pending.append(
                PendingSignOff(
                    product_id=state.product_id,
                    product_name=state.name,
                    gate=state.stage,
                    gate_title=gate.title,
                    round=review.round,
                    role=requirement.role,
                    approvals=approvals,
                    needed=requirement.min_approvals,
                    requested_by=review.requested_by,
                    requested_at=review.requested_at,
                )
            )
    return pending
