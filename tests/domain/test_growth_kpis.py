"""Growth: KPI reviews period by period against launch goals and playbook targets, a notice
when a KPI stays off target, metric trends proposing the gate, experiments as evidence."""

from datetime import timedelta

from domain.alarms import next_alarm
from domain.events import ExperimentRecorded, GateProposedForDecision, KpiOffTarget, KpisReviewed
from domain.gate_evaluation import CriterionKind, evaluate_current_gate
from domain.playbook import Playbook
from domain.refusals import RefusalKind
from domain.rules.growth import next_review_at
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import (
    GRACE,
    MALLORY,
    NOW,
    given,
    go,
    hold,
    measure,
    refusal,
    register,
    then,
    when,
)
from tests.domain.plans import (
    PLANS,
    TRENDS,
    experiment,
    in_growth,
    in_launch,
    in_maturity,
    review_kpis,
)

MONTH = timedelta(days=30)


def reviewed(state: ProductState, months: int, **values: float) -> ProductState:
    """Records the values just before the end of review period `months`, then reviews it."""
    at = NOW + MONTH * months
    for metric, value in values.items():
        state = then(state, measure(metric, value), now=at - timedelta(hours=1))
    return then(state, review_kpis(), now=at)


def test_kpi_reviews_start_when_the_product_enters_growth_and_recur_every_period() -> None:
    assert next_review_at(in_launch()) is None
    state = in_growth()

    assert state.kpis.started_at == NOW
    assert next_review_at(state) == NOW + MONTH
    assert next_alarm(state) == NOW + MONTH
    assert next_review_at(reviewed(state, 1)) == NOW + 2 * MONTH


def test_a_review_before_the_period_ends_does_nothing() -> None:
    assert when(in_growth(), review_kpis(), now=NOW + MONTH - timedelta(seconds=1)) == []


def test_a_review_judges_each_kpi_against_the_launch_goal_or_the_playbook_target() -> None:
    state = in_growth()
    state = then(state, measure("activation", 30), now=NOW + 2 * MONTH)
    state = then(state, measure("nps", 35), now=NOW + 2 * MONTH)

    [review] = when(state, review_kpis(), now=NOW + 2 * MONTH)

    assert isinstance(review, KpisReviewed)
    assert review.period == 1
    assert review.period_end == NOW + MONTH
    results = {r.metric: r for r in review.results}
    assert results["activation"].status == "off_target"
    assert results["activation"].reason == (
        "activation rate is 30 %, off target >= 40 % (adoption goal >= 40 % by 2026-05-01); "
        "1 period(s) in a row"
    )
    assert results["nps"].status == "on_target"
    assert results["nps"].reason == ("net promoter score is 35, on target >= 30 (playbook target)")


def test_a_goal_not_yet_due_is_not_judged_and_a_missing_value_is_said_so() -> None:
    state = then(in_growth(), measure("activation", 10), now=NOW + MONTH)

    [review] = when(state, review_kpis(), now=NOW + MONTH)

    assert isinstance(review, KpisReviewed)
    results = {r.metric: r for r in review.results}
    assert results["activation"].status == "not_due"
    assert results["nps"].status == "no_data"
    assert (
        results["nps"].reason
        == "net promoter score not recorded yet; target >= 30 (playbook target)"
    )


def test_a_kpi_off_target_for_n_consecutive_periods_raises_a_notice() -> None:
    state = reviewed(in_growth(), 1, nps=20)

    events = when(
        then(state, measure("nps", 21), now=NOW + 2 * MONTH), review_kpis(), now=NOW + 2 * MONTH
    )

    off = [e for e in events if isinstance(e, KpiOffTarget)]
    assert [(e.metric, e.periods) for e in off] == [("nps", 2)]
    assert off[0].reason.startswith("net promoter score is 21, off target >= 30")


def test_one_period_off_target_is_not_yet_worth_a_notice() -> None:
    events = when(
        then(in_growth(), measure("nps", 20), now=NOW + MONTH), review_kpis(), now=NOW + MONTH
    )

    assert not [e for e in events if isinstance(e, KpiOffTarget)]


def test_getting_back_on_target_resets_the_streak() -> None:
    state = reviewed(reviewed(in_growth(), 1, nps=20), 2, nps=40)

    assert state.kpis.streak("nps") == 0
    state = reviewed(state, 3, nps=10)
    assert state.kpis.streak("nps") == 1


def test_a_sleeping_workflow_catches_up_one_period_at_a_time() -> None:
    state = in_growth()
    late = NOW + 3 * MONTH + timedelta(days=1)

    for period in (1, 2, 3):
        [review] = when(state, review_kpis(), now=late)
        assert isinstance(review, KpisReviewed)
        assert review.period == period
        state = then(state, review_kpis(), now=late)
    assert when(state, review_kpis(), now=late) == []


def test_reviews_continue_in_maturity_and_stop_on_hold() -> None:
    state = in_maturity()
    assert next_review_at(state) == NOW + MONTH

    assert next_review_at(then(state, hold())) is None


def trend_criterion(state: ProductState) -> tuple[bool, str]:
    evaluation = evaluate_current_gate(state)
    assert evaluation is not None
    [trend] = [c for c in evaluation.criteria if c.kind is CriterionKind.METRIC_TREND]
    return trend.passed, trend.reason


def test_a_metric_trend_criterion_needs_enough_reviews_to_judge() -> None:
    state = reviewed(in_growth(TRENDS), 1, activation=40)

    assert trend_criterion(state) == (
        False,
        "1 KPI review(s) recorded so far; needs growth under 2% for 2 periods",
    )
    refused = refusal(state, go())
    assert refused.rule == "gate.criteria_unmet"
    assert "activation rate growth has plateaued" in refused.message


def test_a_plateau_proposes_the_gate_for_decision_without_deciding_it() -> None:
    state = reviewed(reviewed(in_growth(TRENDS), 1, activation=40), 2, activation=44)
    assert trend_criterion(state)[0] is False  # grew 10%

    state = reviewed(state, 3, activation=44.4)
    events = when(
        then(state, measure("activation", 44.5), now=NOW + 4 * MONTH),
        review_kpis(),
        now=NOW + 4 * MONTH,
    )

    [proposed] = [e for e in events if isinstance(e, GateProposedForDecision)]
    assert proposed.gate is Stage.GROWTH
    assert "grew 0.9%, 0.2% over the last 2 periods" in proposed.reason
    assert "GateDecided" not in [e.type for e in events]
    state = then(
        then(state, measure("activation", 44.5), now=NOW + 4 * MONTH),
        review_kpis(),
        now=NOW + 4 * MONTH,
    )
    assert trend_criterion(state)[0] is True
    assert then(state, go()).stage is Stage.MATURITY


def test_a_gate_is_proposed_once_not_at_every_review() -> None:
    state = in_growth(TRENDS)
    for month, value in enumerate((40, 40.1, 40.2, 40.3), start=1):
        state = reviewed(state, month, activation=value)

    events = when(
        then(state, measure("activation", 40.4), now=NOW + 5 * MONTH),
        review_kpis(),
        now=NOW + 5 * MONTH,
    )

    assert not [e for e in events if isinstance(e, GateProposedForDecision)]


def test_a_playbook_may_pass_the_plateaued_gate_automatically() -> None:
    document = TRENDS.model_dump(mode="json")
    growth = next(s for s in document["stages"] if s["stage"] == "growth")
    growth["exit_gate"]["auto_decision"] = "when_criteria_hold"
    state = in_growth(Playbook.model_validate(document))
    for month, value in enumerate((40, 40.1), start=1):
        state = reviewed(state, month, activation=value)

    state = reviewed(state, 3, activation=40.2)

    assert state.stage is Stage.MATURITY


def test_an_experiment_is_recorded_as_growth_evidence() -> None:
    [recorded] = when(in_growth(), experiment())

    assert isinstance(recorded, ExperimentRecorded)
    assert (recorded.hypothesis, recorded.variants, recorded.result, recorded.decision) == (
        "a shorter signup lifts activation",
        ("control", "short form"),
        "short form +4 points",
        "adopt",
    )
    assert [e.hypothesis for e in then(in_growth(), experiment()).experiments] == [
        "a shorter signup lifts activation"
    ]


def test_experiment_refusals_name_what_is_missing() -> None:
    state = in_growth()
    cases = {
        "experiment.variants_required": experiment(variants=("control", "control")),
        "experiment.result_required": experiment(result=""),
        "experiment.hypothesis_required": experiment(hypothesis=""),
    }
    for rule, command in cases.items():
        refused = refusal(state, command)
        assert (refused.rule, refused.kind) == (rule, RefusalKind.INVALID)
    assert refusal(state, experiment(variants=("a",))).message == (
        "an experiment compares at least two distinct variants; got 1"
    )
    assert refusal(state, experiment(result="")).message == (
        "a decision to adopt needs the experiment's result"
    )
    forbidden = refusal(state, experiment().model_copy(update={"actor": MALLORY}))
    assert (forbidden.rule, forbidden.kind) == ("experiment.not_permitted", RefusalKind.FORBIDDEN)
    assert when(state, experiment().model_copy(update={"actor": GRACE}))
    early = refusal(given(register(PLANS)), experiment())
    assert early.rule == "experiment.wrong_stage"


def test_a_playbook_that_starts_measuring_mid_growth_reviews_from_the_stage_entry() -> None:
    without = PLANS.model_copy(update={"growth": None})
    state = in_growth(without)
    assert next_review_at(state) is None

    adopted = state.model_copy(update={"playbook": PLANS})

    assert next_review_at(adopted) == NOW + MONTH
    [review] = when(adopted, review_kpis(), now=NOW + MONTH)
    assert isinstance(review, KpisReviewed)
    assert next_review_at(then(adopted, review_kpis(), now=NOW + MONTH)) == NOW + 2 * MONTH
