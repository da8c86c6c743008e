"""When the workflow's timer should next wake for a product's review: pure, so replays agree."""

from datetime import datetime

from domain.state import ProductState


def next_review_alarm(state: ProductState) -> datetime | None:
    """The next reminder or the deadline of the open review, whichever comes first; None when
    nothing is to be chased (no SLA, no open round, a rejected or timed-out one, on hold, every
    required role's quorum met)."""
    gate = state.current_gate()
    progress = state.progress
    if gate is None or progress is None or state.on_hold:
        return None
    review = progress.review
    if review is None or review.rejection() is not None or review.timed_out is not None:
        return None
    waiting = any(
        not r.optional and len(review.approvals_in(r.role)) < r.min_approvals
        for r in gate.sign_offs
    )
    if not waiting:
        # Quorum is in and the gate awaits its decision: the timer commands would change
        # nothing, so an alarm here would wake the workflow again and again for the same moment.
        return None
    moments: list[datetime] = []
    if review.due_at is not None:
        moments.append(review.due_at)
    interval = gate.review.remind_every
    if interval is not None:
        reminder = review.requested_at + interval * (review.reminders + 1)
        if review.due_at is None or reminder < review.due_at:
            moments.append(reminder)
    return min(moments) if moments else None
