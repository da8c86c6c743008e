"""Gate criteria that come from the launch, growth and sunset plans, each with a reason a
person can act on. `gate_evaluation` adds them to the gate they belong to."""

from domain.kpis import trend_holds
from domain.playbook import Gate
from domain.stages import Stage
from domain.state import ProductState


def gtm_due_note(state: ProductState, gate_name: Stage, item: str) -> str:
    """What a launch checklist item's reason adds when the item is on the GTM schedule."""
    plan = state.launch_plan
    if gate_name is not Stage.LAUNCH or plan is None:
        return ""
    due = plan.item(item)
    if due is None:
        return ""
    note = f"; due {due.due_at.date().isoformat()} for the launch on {plan.launch_at.date()}"
    reminders = plan.reminders.get(item, 0)
    if reminders:
        note += f"; owner reminded {reminders} time(s)"
    return note


def trend_criteria(gate: Gate, state: ProductState) -> list[tuple[str, str, bool, str]]:
    """(key, title, passed, reason) for each metric trend the gate asks for."""
    assert state.playbook is not None
    results = []
    for trend in gate.metric_trends:
        definition = state.playbook.metric(trend.metric)
        title = f"{definition.title if definition else trend.metric} growth has plateaued"
        passed, reason = trend_holds(trend, state.kpis.history.get(trend.metric, ()))
        results.append((trend.metric, title, passed, reason))
    return results


def sunset_plan_criterion(gate_name: Stage, state: ProductState) -> tuple[bool, str] | None:
    """The maturity gate (the one into sunset) asks for a proposed plan when the playbook says
    so; None when it does not."""
    policy = state.playbook.sunset if state.playbook else None
    if gate_name is not Stage.MATURITY or policy is None or not policy.plan_required_at_gate:
        return None
    plan = state.sunset_plan
    if plan is None:
        return False, "no sunset plan proposed yet; the product owner proposes one"
    return True, (
        f"proposed by {plan.proposed_by.display_name}: end of life "
        f"{plan.end_of_life.date().isoformat()}, {len(plan.communications)} communication(s) "
        "scheduled"
    )
