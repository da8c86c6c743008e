"""Growth and optimisation: the periodic KPI review against targets (launch goals first, the
playbook's defaults otherwise), the notice when a KPI stays off target, proposing a gate when
its metric trends hold, and experiments kept as growth evidence."""

from datetime import datetime

from domain.command_context import CommandContext
from domain.commands import RecordExperiment, ReviewKpis
from domain.events import (
    Event,
    ExperimentRecorded,
    GateProposedForDecision,
    KpiOffTarget,
    KpisReviewed,
)
from domain.evolve import evolve_all
from domain.kpis import KpiResult, trend_holds
from domain.playbook_sections import KpiTarget
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import Stage
from domain.state import ProductState
from domain.thresholds import holds, number

EXPERIMENT_STAGES = (Stage.LAUNCH, Stage.GROWTH, Stage.MATURITY)


def next_review_at(state: ProductState) -> datetime | None:
    """The end of the next KPI review period; None outside the measured stages or on hold.
    Periods count from entering the first measured stage, or from entering the current one
    when the playbook only started measuring it later (a newer playbook version adopted)."""
    growth = state.playbook.growth if state.playbook else None
    if growth is None or state.on_hold or state.stage not in growth.stages:
        return None
    started = state.kpis.started_at or state.stage_entered_at
    if started is None:
        return None
    return started + growth.review_every * (state.kpis.reviews + 1)


def _targets(state: ProductState) -> list[KpiTarget]:
    """The playbook's KPIs, and every metric a launch goal names, in that order."""
    assert state.playbook is not None
    assert state.playbook.growth is not None
    targets = list(state.playbook.growth.kpis)
    listed = {t.metric for t in targets}
    for goal in state.launch_goals:
        if goal.metric not in listed:
            targets.append(
                KpiTarget(metric=goal.metric, comparison=goal.comparison, target=goal.target)
            )
    return targets


def _result(state: ProductState, kpi: KpiTarget, now: datetime) -> KpiResult:
    assert state.playbook is not None
    definition = state.playbook.metric(kpi.metric)
    title = definition.title if definition else kpi.metric
    unit = f" {definition.unit}" if definition and definition.unit else ""
    comparison, target, source = kpi.comparison, kpi.target, "playbook target"
    goal = state.launch_goal(kpi.metric)
    if goal is not None:
        comparison, target = goal.comparison, goal.target
        source = goal.describe(definition.unit if definition else "")
    wanted = f"target {comparison} {number(target)}{unit} ({source})"
    reading = state.metrics.get(kpi.metric)
    previous = state.kpis.streak(kpi.metric)
    if goal is not None and now < goal.due_by:
        status, streak, said = "not_due", 0, f"{title}: goal not due yet; {wanted}"
    elif reading is None:
        status, streak, said = "no_data", previous, f"{title} not recorded yet; {wanted}"
    elif holds(reading.value, comparison, target):
        status, streak = "on_target", 0
        said = f"{title} is {number(reading.value)}{unit}, on {wanted}"
    else:
        status, streak = "off_target", previous + 1
        said = (
            f"{title} is {number(reading.value)}{unit}, off {wanted}; {streak} period(s) in a row"
        )
    return KpiResult(
        metric=kpi.metric,
        value=reading.value if reading else None,
        comparison=comparison,
        target=target,
        status=status,
        periods_off_target=streak,
        reason=said,
    )


def review_kpis(context: CommandContext, command: ReviewKpis) -> list[Event]:
    """One period's review, when it is due; a sleeping workflow catches up period by period."""
    state = context.state
    due = next_review_at(state)
    growth = context.playbook.growth
    if due is None or growth is None or due > context.now:
        return []
    results = tuple(_result(state, kpi, context.now) for kpi in _targets(state))
    events: list[Event] = [
        KpisReviewed(
            **context.stamp(), period=state.kpis.reviews + 1, period_end=due, results=results
        )
    ]
    for result in results:
        streak = result.periods_off_target
        if result.status == "off_target" and streak % growth.off_target_after == 0:
            events.append(
                KpiOffTarget(
                    **context.stamp(), metric=result.metric, periods=streak, reason=result.reason
                )
            )
    events.extend(_proposal(context, evolve_all(state, events)))
    return events


def _proposal(context: CommandContext, after: ProductState) -> list[Event]:
    """When every metric trend of the current gate holds, the deciders are asked to decide;
    only the playbook's automatic decision rules ever pass a gate by themselves."""
    trends = context.gate.metric_trends
    if not trends or context.gate_name.value in after.kpis.proposed_gates:
        return []
    judged = [trend_holds(t, after.kpis.history.get(t.metric, ())) for t in trends]
    if not all(passed for passed, _ in judged):
        return []
    return [
        GateProposedForDecision(
            **context.stamp(),
            gate=context.gate_name,
            reason="; ".join(
                f"{t.metric} {why}" for t, (_, why) in zip(trends, judged, strict=True)
            ),
        )
    ]


def record_experiment(context: CommandContext, command: RecordExperiment) -> list[Event]:
    context.require_active("recording experiments")
    if context.gate_name not in EXPERIMENT_STAGES:
        raise CommandRefused(
            "experiment.wrong_stage",
            f"experiments are recorded from launch to maturity; product '{context.product_id}' "
            f"is in {context.gate_name}",
        )
    context.require_owner_or_decider("record experiments", "experiment.not_permitted")
    if not command.hypothesis:
        raise CommandRefused(
            "experiment.hypothesis_required",
            "an experiment needs the hypothesis it tests",
            RefusalKind.INVALID,
        )
    distinct = len(set(command.variants))
    if distinct < 2:
        raise CommandRefused(
            "experiment.variants_required",
            f"an experiment compares at least two distinct variants; got {distinct}",
            RefusalKind.INVALID,
        )
    if command.decision is not None and not command.result:
        raise CommandRefused(
            "experiment.result_required",
            f"a decision to {command.decision} needs the experiment's result",
            RefusalKind.INVALID,
        )
    return [
        ExperimentRecorded(
            **context.stamp(),
            experiment_id=context.new_id(),
            hypothesis=command.hypothesis,
            variants=command.variants,
            result=command.result,
            decision=command.decision,
        )
    ]
