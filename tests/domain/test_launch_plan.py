"""Launch: the GTM checklist laid over the planned launch date, reminders when items fall due,
launch goals, and the launch gate reading the checklist."""

from datetime import timedelta

from domain.alarms import next_alarm, next_gtm_alarm
from domain.commands import CompleteChecklistItem
from domain.events import GtmItemOverdue, LaunchGoalSet, LaunchPlanned
from domain.gate_evaluation import evaluate_current_gate
from domain.identity import SYSTEM_ACTOR, ActorRef
from domain.launch_plan import GtmItemDue
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.domain.dsl import (
    EDSGER,
    GRACE,
    MALLORY,
    NOW,
    PRODUCT_ID,
    given,
    go,
    playbook,
    refusal,
    register,
    then,
    tick,
    types,
    when,
)
from tests.domain.plans import (
    PLANS,
    in_growth,
    in_launch,
    launch_goal,
    plan_launch,
    remind_gtm,
)

LAUNCH_AT = NOW + timedelta(days=30)


def test_entering_launch_instantiates_the_gtm_template_with_owners_and_due_dates() -> None:
    state = given(register(PLANS), go(), go())

    events = when(state, go())

    assert types(events) == ["GateDecided", "StageEntered", "LaunchPlanned"]
    assert events[-1] == LaunchPlanned(
        event_id="id-3",
        product_id=PRODUCT_ID,
        occurred_at=NOW,
        actor=ActorRef(subject=SYSTEM_ACTOR.subject, display_name=SYSTEM_ACTOR.display_name),
        launch_at=LAUNCH_AT,
        items=(
            GtmItemDue(
                item="positioning",
                title="Positioning agreed",
                owner_role="pm",
                due_at=LAUNCH_AT - timedelta(days=14),
            ),
            GtmItemDue(
                item="pricing",
                title="Pricing approved",
                owner_role="finance",
                due_at=LAUNCH_AT - timedelta(days=7),
            ),
            GtmItemDue(
                item="goals",
                title="Launch goals set",
                owner_role="pm",
                due_at=LAUNCH_AT,
                needs_launch_goals=True,
            ),
        ),
    )


def test_a_playbook_without_a_gtm_template_plans_nothing_on_entering_launch() -> None:
    state = given(register(playbook()), go(), go())

    assert types(when(state, go())) == ["GateDecided", "StageEntered"]


def test_moving_the_launch_date_moves_every_due_date() -> None:
    state = in_launch()
    later = NOW + timedelta(days=60)

    [planned] = when(state, plan_launch(later))

    assert isinstance(planned, LaunchPlanned)
    assert planned.replanned_from == LAUNCH_AT
    assert [i.due_at for i in planned.items] == [
        later - timedelta(days=14),
        later - timedelta(days=7),
        later,
    ]


def test_a_launch_date_in_the_past_is_refused() -> None:
    refused = refusal(in_launch(), plan_launch(NOW - timedelta(days=1)))

    assert refused.rule == "launch.date_in_past"
    assert refused.kind is RefusalKind.INVALID
    assert "is not in the future" in refused.message


def test_only_the_owner_or_a_decider_plans_the_launch() -> None:
    refused = refusal(in_launch(), plan_launch(LAUNCH_AT, by=MALLORY))

    assert refused.rule == "launch.not_permitted"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "Mallory Nobody is neither" in refused.message
    assert when(in_launch(), plan_launch(LAUNCH_AT, by=GRACE))


def test_planning_a_launch_outside_launch_is_refused() -> None:
    refused = refusal(given(register(PLANS)), plan_launch(LAUNCH_AT))

    assert refused.rule == "launch.not_in_launch"
    assert refused.message == (
        f"the launch date is planned during launch; product '{PRODUCT_ID}' is in discovery"
    )


def test_planning_a_launch_without_a_gtm_template_is_refused() -> None:
    state = given(register(playbook()), go(), go(), go())

    refused = refusal(state, plan_launch(LAUNCH_AT))

    assert refused.rule == "launch.no_gtm_template"
    assert "has no go-to-market template" in refused.message


def test_the_alarm_is_the_first_due_date_of_an_open_item() -> None:
    state = in_launch()

    assert next_gtm_alarm(state) == LAUNCH_AT - timedelta(days=14)
    assert next_alarm(state) == LAUNCH_AT - timedelta(days=14)
    done = then(state, tick("positioning"))
    assert next_gtm_alarm(done) == LAUNCH_AT - timedelta(days=7)


def test_an_overdue_item_reminds_its_owner_role_then_again_every_interval() -> None:
    state = in_launch()
    due = LAUNCH_AT - timedelta(days=14)

    assert when(state, remind_gtm(), now=due - timedelta(hours=1)) == []
    [first] = when(state, remind_gtm(), now=due)
    state = then(state, remind_gtm(), now=due)

    assert isinstance(first, GtmItemOverdue)
    assert (first.item, first.owner_role, first.due_at, first.reminder) == (
        "positioning",
        "pm",
        due,
        1,
    )
    assert next_gtm_alarm(state) == due + timedelta(days=2)
    [second] = when(state, remind_gtm(), now=due + timedelta(days=2))
    assert isinstance(second, GtmItemOverdue)
    assert second.reminder == 2


def test_a_done_item_is_never_reminded() -> None:
    state = then(in_launch(), tick("positioning"))

    events = when(state, remind_gtm(), now=LAUNCH_AT - timedelta(days=7))

    assert [(e.item, e.owner_role) for e in events if isinstance(e, GtmItemOverdue)] == [
        ("pricing", "finance")
    ]


def test_items_without_a_reminder_cadence_are_reminded_once() -> None:
    document = PLANS.model_dump(mode="json")
    document["go_to_market"]["remind_every"] = None
    pb = type(PLANS).model_validate(document)
    state = in_launch(pb)
    due = LAUNCH_AT - timedelta(days=14)
    state = then(state, remind_gtm(), now=due)

    later = when(state, remind_gtm(), now=due + timedelta(days=20))

    assert "positioning" not in [e.item for e in later if isinstance(e, GtmItemOverdue)]


def test_the_launch_gate_reads_the_checklist_with_due_dates_and_reminders() -> None:
    state = in_launch()
    state = then(state, remind_gtm(), now=LAUNCH_AT - timedelta(days=14))

    evaluation = evaluate_current_gate(state)

    assert evaluation is not None
    reasons = {c.key: (c.passed, c.reason) for c in evaluation.criteria}
    assert reasons["positioning"] == (
        False,
        "not done yet (owner role: pm); due 2026-03-18 for the launch on 2026-04-01; "
        "owner reminded 1 time(s)",
    )
    assert reasons["pricing"] == (
        False,
        "not done yet (owner role: finance); due 2026-03-25 for the launch on 2026-04-01",
    )


def test_completing_an_item_keeps_its_evidence() -> None:
    state = then(
        in_launch(),
        CompleteChecklistItem(
            actor=EDSGER, item="pricing", note="board approved", uri="https://wiki/pricing"
        ),
    )

    assert state.progress is not None
    assert state.progress.checklist["pricing"].note == "board approved"
    [done] = when(
        in_launch(),
        CompleteChecklistItem(actor=EDSGER, item="pricing", note="ok", uri="https://wiki/p"),
    )
    assert done.model_dump()["uri"] == "https://wiki/p"


def test_an_item_tied_to_launch_goals_cannot_be_ticked_before_a_goal_is_set() -> None:
    refused = refusal(in_launch(), tick("goals"))

    assert refused.rule == "gtm.launch_goals_missing"
    assert "needs at least one launch goal" in refused.message
    state = then(in_launch(), launch_goal())
    assert types(when(state, tick("goals"))) == ["ChecklistItemCompleted"]


def test_a_launch_goal_is_recorded_with_its_target_unit_and_date() -> None:
    due = NOW + timedelta(days=60)

    [goal] = when(in_launch(), launch_goal(target=45, due_by=due))

    assert isinstance(goal, LaunchGoalSet)
    assert (goal.metric, goal.kind, goal.comparison, goal.target, goal.unit, goal.due_by) == (
        "activation",
        "adoption",
        ">=",
        45,
        "%",
        due,
    )


def test_setting_a_goal_again_replaces_the_earlier_target_for_that_metric() -> None:
    state = then(then(in_launch(), launch_goal(target=40)), launch_goal(target=50))

    assert [(g.metric, g.target) for g in state.launch_goals] == [("activation", 50)]


def test_launch_goal_refusals_name_the_rule() -> None:
    state = in_launch()
    unknown = launch_goal(metric="downloads")
    past = launch_goal(due_by=NOW - timedelta(days=1))

    assert refusal(state, unknown).rule == "metric.unknown"
    assert "defines no metric 'downloads'" in refusal(state, unknown).message
    assert refusal(state, past).rule == "launch_goal.due_in_past"
    not_owner = launch_goal().model_copy(update={"actor": GRACE})
    assert refusal(state, not_owner).rule == "launch_goal.not_product_owner"
    early = refusal(given(register(PLANS)), launch_goal())
    assert early.rule == "launch_goal.wrong_stage"
    assert "is in discovery" in early.message


def test_goals_may_still_be_set_in_growth_and_outlive_the_launch_plan() -> None:
    state = then(in_growth(), launch_goal())

    assert state.launch_plan is None
    assert [g.metric for g in state.launch_goals] == ["activation"]


def test_leaving_launch_drops_its_plan_and_its_alarms() -> None:
    state = in_launch()
    for item in ("positioning", "goals"):
        if item == "goals":
            state = then(state, launch_goal())
        state = then(state, tick(item))
    state = then(state, tick("pricing", by=EDSGER))
    state = then(state, go())

    assert state.stage is Stage.GROWTH
    assert state.launch_plan is None
    assert next_gtm_alarm(state) is None
