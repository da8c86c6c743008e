"""How launch, growth and sunset events change a product's state (called by `evolve`)."""

from domain.events import (
    Event,
    ExperimentRecorded,
    GateProposedForDecision,
    GtmItemOverdue,
    KpisReviewed,
    LaunchGoalSet,
    LaunchPlanned,
    RetirementDeferred,
    StageEntered,
    SunsetCommunicationSent,
    SunsetProposed,
)
from domain.kpis import HISTORY_KEPT, Experiment, KpiTrack
from domain.launch_plan import LaunchGoal, LaunchPlan
from domain.stages import Stage
from domain.state import ProductState
from domain.sunset import SunsetPlan


def on_stage_entered(state: ProductState, event: StageEntered) -> dict[str, object]:
    """A launch plan belongs to one visit of launch; KPI reviews run from the first measured
    stage on and stop outside them; a sunset plan carries only into the sunset it was for."""
    changes: dict[str, object] = {"launch_plan": None}
    growth = state.playbook.growth if state.playbook else None
    if growth is None or event.stage not in growth.stages:
        changes["kpis"] = KpiTrack()
    elif state.kpis.started_at is None:
        changes["kpis"] = KpiTrack(started_at=event.occurred_at)
    if event.stage is not Stage.SUNSET:
        changes["sunset_plan"] = None
    return changes


def plan_changes(state: ProductState, event: Event) -> dict[str, object]:
    match event:
        case LaunchPlanned():
            return {"launch_plan": LaunchPlan(launch_at=event.launch_at, items=event.items)}
        case GtmItemOverdue():
            plan = state.launch_plan
            assert plan is not None
            reminders = {**plan.reminders, event.item: event.reminder}
            return {"launch_plan": plan.model_copy(update={"reminders": reminders})}
        case LaunchGoalSet():
            goal = LaunchGoal(
                metric=event.metric,
                kind=event.kind,
                comparison=event.comparison,
                target=event.target,
                due_by=event.due_by,
                set_by=event.actor,
                set_at=event.occurred_at,
            )
            kept = tuple(g for g in state.launch_goals if g.metric != event.metric)
            return {"launch_goals": (*kept, goal)}
        case KpisReviewed():
            history = dict(state.kpis.history)
            for result in event.results:
                values = (*history.get(result.metric, ()), result.value)
                history[result.metric] = values[-HISTORY_KEPT:]
            track = state.kpis.model_copy(
                update={"reviews": event.period, "last_results": event.results, "history": history}
            )
            return {"kpis": track}
        case GateProposedForDecision():
            proposed = (*state.kpis.proposed_gates, event.gate.value)
            return {"kpis": state.kpis.model_copy(update={"proposed_gates": proposed})}
        case ExperimentRecorded():
            experiment = Experiment(
                experiment_id=event.experiment_id,
                hypothesis=event.hypothesis,
                variants=event.variants,
                result=event.result,
                decision=event.decision,
                recorded_by=event.actor,
                recorded_at=event.occurred_at,
            )
            return {"experiments": (*state.experiments, experiment)}
        case SunsetProposed():
            proposal = SunsetPlan(
                reason=event.reason,
                end_of_life=event.end_of_life,
                communication_plan=event.communication_plan,
                transition_plan=event.transition_plan,
                communications=event.communications,
                proposed_by=event.actor,
                proposed_at=event.occurred_at,
            )
            return {"sunset_plan": proposal}
        case SunsetCommunicationSent():
            sunset = state.sunset_plan
            assert sunset is not None
            sent = tuple(
                c.model_copy(update={"sent_at": event.occurred_at}) if c.key == event.key else c
                for c in sunset.communications
            )
            return {"sunset_plan": sunset.model_copy(update={"communications": sent})}
        case RetirementDeferred():
            sunset = state.sunset_plan
            assert sunset is not None
            return {"sunset_plan": sunset.model_copy(update={"retry_at": event.retry_at})}
        case _:
            return {}
