"""When the product's workflow should next wake: the earliest of the review alarm, a GTM item
falling due, the end of a KPI review period, and the sunset schedule. Pure, so replays agree."""

from datetime import datetime

from domain.launch_plan import next_reminder_at
from domain.review_clock import next_review_alarm
from domain.rules.growth import next_review_at
from domain.rules.sunset import next_sunset_alarm
from domain.state import ProductState


def next_gtm_alarm(state: ProductState) -> datetime | None:
    plan = state.launch_plan
    template = state.playbook.go_to_market if state.playbook else None
    if plan is None or template is None or state.progress is None or state.on_hold:
        return None
    moments = [
        at
        for item in plan.items
        if item.item not in state.progress.checklist
        and (at := next_reminder_at(plan, item, template.remind_every)) is not None
    ]
    return min(moments) if moments else None


def next_alarm(state: ProductState) -> datetime | None:
    if state.is_terminal:
        return None
    moments = [
        moment
        for moment in (
            next_review_alarm(state),
            next_gtm_alarm(state),
            next_review_at(state),
            next_sunset_alarm(state),
        )
        if moment is not None
    ]
    return min(moments) if moments else None
