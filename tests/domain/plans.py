"""A playbook that uses the launch, growth and sunset plans, and shortcuts to its stages."""

from datetime import datetime, timedelta

from domain.commands import (
    Command,
    PlanLaunch,
    ProposeSunset,
    RecordExperiment,
    RemindOverdueGtmItems,
    ReviewKpis,
    RunSunsetSchedule,
    SetLaunchGoal,
)
from domain.identity import SYSTEM_ACTOR, Actor
from domain.playbook import Playbook
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import ADA, NOW, given, go, playbook_document, register, tick

LAUNCH_CHECKLIST = [
    {"key": "positioning", "title": "Positioning agreed", "owner_role": "pm"},
    {"key": "pricing", "title": "Pricing approved", "owner_role": "finance"},
    {"key": "goals", "title": "Launch goals set", "owner_role": "pm"},
]
SUNSET_CHECKLIST = [
    {"key": "data-deleted", "title": "Customer data deleted", "owner_role": "legal"}
]


def plans_document(**overrides: object) -> dict[str, object]:
    document = playbook_document(
        launch={"checklist": LAUNCH_CHECKLIST},
        sunset={"checklist": SUNSET_CHECKLIST},
    )
    document["go_to_market"] = {
        "planned_launch_after": "P30D",
        "remind_every": "P2D",
        "schedule": [
            {"item": "positioning", "due_before_launch": "P14D"},
            {"item": "pricing", "due_before_launch": "P7D"},
            {"item": "goals", "due_before_launch": "P0D", "needs_launch_goals": True},
        ],
    }
    document["growth"] = {
        "kpis": [
            {"metric": "activation", "comparison": ">=", "target": 40},
            {"metric": "nps", "comparison": ">=", "target": 30},
        ],
        "review_every": "P30D",
        "off_target_after": 2,
    }
    document["sunset"] = {
        "min_notice": "P60D",
        "retry_every": "P1D",
        "communications": [
            {
                "key": "announcement",
                "title": "End of life announced to customers",
                "audience": "customers",
                "before_end_of_life": "P60D",
            },
            {
                "key": "stakeholder-update",
                "title": "Final stakeholder update",
                "audience": "stakeholders",
                "recipient_roles": ["legal", "finance"],
                "before_end_of_life": "P14D",
            },
        ],
    }
    document.update(overrides)
    return document


PLANS = Playbook.model_validate(plans_document())


def _with_plateau_criterion() -> Playbook:
    document = PLANS.model_dump(mode="json")
    growth = next(s for s in document["stages"] if s["stage"] == "growth")
    growth["exit_gate"]["metric_trends"] = [
        {"metric": "activation", "max_growth_percent": 2, "periods": 2}
    ]
    return Playbook.model_validate(document)


# The growth gate also asks for activation to have plateaued: under 2% growth for 2 periods.
TRENDS = _with_plateau_criterion()
END_OF_LIFE = NOW + timedelta(days=90)


def in_launch(pb: Playbook = PLANS) -> ProductState:
    """Registered and passed through discovery, planning and development at NOW."""
    return given(register(pb), go(), go(), go())


def launch_work(now: datetime) -> tuple[Command, ...]:
    """Everything the launch gate asks: an activation goal due 60 days after `now`, then every
    GTM item ticked by the owner."""
    return (
        SetLaunchGoal(
            actor=ADA,
            metric="activation",
            kind="adoption",
            comparison=">=",
            target=40,
            due_by=now + timedelta(days=60),
        ),
        tick("positioning"),
        tick("pricing"),
        tick("goals"),
    )


LAUNCH_WORK = launch_work(NOW)


def commands_to(stage: Stage, now: datetime) -> list[Command]:
    """The commands that carry a product registered under PLANS from discovery to `stage`."""
    path: list[Command] = [go(), go(), go()]
    if stage is Stage.LAUNCH:
        return path
    path += [*launch_work(now), go()]
    if stage is Stage.GROWTH:
        return path
    assert stage is Stage.MATURITY
    return [*path, go()]


def in_growth(pb: Playbook = PLANS) -> ProductState:
    """Launched at NOW with every GTM item done and an activation goal due in 60 days."""
    return given(register(pb), go(), go(), go(), *LAUNCH_WORK, go())


def in_maturity(pb: Playbook = PLANS) -> ProductState:
    return given(register(pb), go(), go(), go(), *LAUNCH_WORK, go(), go())


def plan_launch(at: datetime, by: Actor = ADA) -> PlanLaunch:
    return PlanLaunch(actor=by, launch_at=at)


def launch_goal(
    metric: str = "activation", target: float = 40, due_by: datetime = NOW + timedelta(days=60)
) -> SetLaunchGoal:
    return SetLaunchGoal(
        actor=ADA, metric=metric, kind="adoption", comparison=">=", target=target, due_by=due_by
    )


def propose_sunset(end_of_life: datetime | None = END_OF_LIFE, **parts: str) -> ProposeSunset:
    plan = {
        "reason": "superseded by Widget 2",
        "communication_plan": "email all admins, banner in app",
        "transition_plan": "one-click export to Widget 2",
        **parts,
    }
    return ProposeSunset(actor=ADA, end_of_life=end_of_life, **plan)


def experiment(**fields: object) -> RecordExperiment:
    values: dict[str, object] = {
        "hypothesis": "a shorter signup lifts activation",
        "variants": ("control", "short form"),
        "result": "short form +4 points",
        "decision": "adopt",
        **fields,
    }
    return RecordExperiment.model_validate({"actor": ADA, **values})


def remind_gtm() -> RemindOverdueGtmItems:
    return RemindOverdueGtmItems(actor=SYSTEM_ACTOR)


def review_kpis() -> ReviewKpis:
    return ReviewKpis(actor=SYSTEM_ACTOR)


def run_sunset() -> RunSunsetSchedule:
    return RunSunsetSchedule(actor=SYSTEM_ACTOR)
