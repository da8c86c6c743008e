"""Launch, growth and sunset: the dated GTM checklist, launch goals, experiments, the sunset
plan, and one read of where each stands. Handlers are thin: authenticate, send, map."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.auth import Caller, Services
from api.errors import ApiRefusal, ErrorBody
from api.idempotency import IdempotencyKey
from api.schemas import CommandResult
from api.sending import send_command
from domain.commands import PlanLaunch, ProposeSunset, RecordExperiment, SetLaunchGoal
from domain.identity import Key, Reason, Title
from domain.kpis import Experiment, KpiResult
from domain.launch_plan import GoalKind, LaunchGoal
from domain.rules.growth import next_review_at
from domain.stages import Stage
from domain.sunset import SunsetPlan
from domain.thresholds import Comparison

router = APIRouter(tags=["launch, growth and sunset"])
ProductIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)]
REFUSALS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 422, 503)
}
Text = Reason  # the domain's own free text, so the domain never refuses what passed here


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LaunchDateRequest(_Input):
    launch_at: AwareDatetime


class LaunchGoalRequest(_Input):
    metric: Key
    kind: GoalKind
    comparison: Comparison = ">="
    target: float = Field(allow_inf_nan=False)
    due_by: AwareDatetime


class ExperimentRequest(_Input):
    hypothesis: Text
    variants: Annotated[list[Title], Field(max_length=20)]
    result: Text = ""
    decision: Literal["adopt", "iterate", "abandon"] | None = None


class SunsetRequest(_Input):
    """Every part is optional here so the answer can name each one missing."""

    reason: Text = ""
    end_of_life: AwareDatetime | None = None
    communication_plan: Text = ""
    transition_plan: Text = ""


class GtmItemOut(BaseModel):
    item: str
    title: str
    owner_role: str
    due_at: datetime
    done: bool
    done_by: str | None
    overdue: bool
    reminders: int


class LaunchOut(BaseModel):
    launch_at: datetime
    items: list[GtmItemOut]


class KpisOut(BaseModel):
    started_at: datetime | None
    reviews: int
    next_review_at: datetime | None
    last_results: list[KpiResult]


class PlansOut(BaseModel):
    """Where the product's launch, growth and sunset stand."""

    product_id: str
    stage: Stage
    launch: LaunchOut | None
    launch_goals: list[LaunchGoal]
    kpis: KpisOut
    experiments: list[Experiment]
    sunset: SunsetPlan | None
    next_alarm: datetime | None


@router.get("/products/{product_id}/plans", responses=REFUSALS)
async def show_plans(product_id: ProductIdPath, caller: Caller, services: Services) -> PlansOut:
    """The dated GTM checklist with owners (during launch), launch goals, the KPI review,
    experiments and the sunset plan."""
    view = await services.products.view(product_id)
    state = view.state
    if not state.is_registered or state.stage is None:
        raise ApiRefusal(404, "product.not_registered", f"product '{product_id}' is not registered")
    now = services.clock()
    launch = None
    if state.launch_plan is not None:
        ticks = state.progress.checklist if state.progress else {}
        launch = LaunchOut(
            launch_at=state.launch_plan.launch_at,
            items=[
                GtmItemOut(
                    item=i.item,
                    title=i.title,
                    owner_role=i.owner_role,
                    due_at=i.due_at,
                    done=i.item in ticks,
                    done_by=ticks[i.item].done_by.display_name if i.item in ticks else None,
                    overdue=i.item not in ticks and i.due_at <= now,
                    reminders=state.launch_plan.reminders.get(i.item, 0),
                )
                for i in state.launch_plan.items
            ],
        )
    return PlansOut(
        product_id=product_id,
        stage=state.stage,
        launch=launch,
        launch_goals=list(state.launch_goals),
        kpis=KpisOut(
            started_at=state.kpis.started_at,
            reviews=state.kpis.reviews,
            next_review_at=next_review_at(state),
            last_results=list(state.kpis.last_results),
        ),
        experiments=list(state.experiments),
        sunset=state.sunset_plan,
        next_alarm=view.next_alarm,
    )


@router.post("/products/{product_id}/launch/date", responses=REFUSALS)
async def plan_launch(
    product_id: ProductIdPath,
    body: LaunchDateRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Set or move the planned launch date; every GTM due date moves with it."""
    return await send_command(
        services, product_id, PlanLaunch(actor=caller, launch_at=body.launch_at), idempotency_key
    )


@router.post("/products/{product_id}/launch/goals", responses=REFUSALS)
async def set_launch_goal(
    product_id: ProductIdPath,
    body: LaunchGoalRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """A target growth is measured against; setting one again for a metric replaces it."""
    command = SetLaunchGoal(
        actor=caller,
        metric=body.metric,
        kind=body.kind,
        comparison=body.comparison,
        target=body.target,
        due_by=body.due_by,
    )
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/experiments", responses=REFUSALS)
async def record_experiment(
    product_id: ProductIdPath,
    body: ExperimentRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    command = RecordExperiment(
        actor=caller,
        hypothesis=body.hypothesis,
        variants=tuple(body.variants),
        result=body.result,
        decision=body.decision,
    )
    return await send_command(services, product_id, command, idempotency_key)


@router.post("/products/{product_id}/sunset", responses=REFUSALS)
async def propose_sunset(
    product_id: ProductIdPath,
    body: SunsetRequest,
    caller: Caller,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> CommandResult:
    """Propose the sunset plan the gate into sunset is decided on."""
    command = ProposeSunset(
        actor=caller,
        reason=body.reason,
        end_of_life=body.end_of_life,
        communication_plan=body.communication_plan,
        transition_plan=body.transition_plan,
    )
    return await send_command(services, product_id, command, idempotency_key)
