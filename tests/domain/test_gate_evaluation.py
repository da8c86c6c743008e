from typing import Any

import pytest

from domain.gate_evaluation import (
    CriterionKind,
    CriterionResult,
    GateEvaluation,
    evaluate_current_gate,
)
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import (
    EDSGER,
    LINUS,
    MARGARET,
    approve,
    evidence,
    given,
    go,
    kill,
    measure,
    playbook,
    register,
    reject,
    request_review,
    then,
    tick,
)


def evaluation(state: ProductState) -> GateEvaluation:
    result = evaluate_current_gate(state)
    assert result is not None
    return result


def criterion(state: ProductState, key: str) -> CriterionResult:
    return next(c for c in evaluation(state).criteria if c.key == key)


def metric_gate(comparison: str, threshold: float) -> dict[str, Any]:
    return {"metrics": [{"metric": "activation", "comparison": comparison, "threshold": threshold}]}


# -- the shape of an evaluation ----------------------------------------------------------------


def test_an_evaluation_lists_every_criterion_of_the_current_gate_in_a_stable_order() -> None:
    pb = playbook(
        discovery={
            "title": "Opportunity validated",
            "sign_offs": [{"role": "legal"}],
            "metrics": [{"metric": "nps", "comparison": ">=", "threshold": 30}],
            "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 5}],
            "checklist": [{"key": "personas", "title": "Personas drafted", "owner_role": "pm"}],
        }
    )

    result = evaluation(given(register(pb)))

    assert (result.gate, result.leads_to, result.title) == (
        Stage.DISCOVERY,
        Stage.PLANNING,
        "Opportunity validated",
    )
    assert [(c.kind, c.key, c.title) for c in result.criteria] == [
        (CriterionKind.CHECKLIST, "personas", "Personas drafted"),
        (CriterionKind.EVIDENCE, "interview", "customer interviews"),
        (CriterionKind.METRIC, "nps", "net promoter score"),
        (CriterionKind.SIGN_OFF, "legal", "sign-off by legal"),
    ]
    assert not result.passed
    assert len(result.unmet()) == 4
    assert [c.kind for c in result.unmet(ignore_sign_offs=True)] == [
        CriterionKind.CHECKLIST,
        CriterionKind.EVIDENCE,
        CriterionKind.METRIC,
    ]


def test_a_gate_without_criteria_passes() -> None:
    result = evaluation(given(register(playbook())))

    assert result.criteria == ()
    assert result.passed


def test_a_terminal_product_has_no_gate_to_evaluate() -> None:
    killed = given(register(playbook()), kill())

    assert evaluate_current_gate(killed) is None
    assert evaluate_current_gate(ProductState()) is None


# -- evidence and checklist --------------------------------------------------------------------


def test_evidence_reads_as_k_of_n_logged() -> None:
    pb = playbook(
        discovery={
            "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 5}]
        }
    )
    state = given(register(pb), *[evidence("interview")] * 3)

    three = criterion(state, "interview")
    five = criterion(given(register(pb), *[evidence("interview")] * 5), "interview")
    six = criterion(given(register(pb), *[evidence("interview")] * 6), "interview")

    assert (three.passed, three.reason) == (False, "3 of 5 customer interviews logged")
    assert (five.passed, five.reason) == (True, "5 of 5 customer interviews logged")
    assert (six.passed, six.reason) == (True, "6 of 5 customer interviews logged")


def test_a_checklist_item_reads_who_owes_it_or_who_did_it_and_when() -> None:
    pb = playbook(
        discovery={"checklist": [{"key": "budget", "title": "Budget", "owner_role": "finance"}]}
    )
    state = given(register(pb))

    before = criterion(state, "budget")
    after = criterion(then(state, tick("budget", by=EDSGER)), "budget")

    assert (before.passed, before.reason) == (False, "not done yet (owner role: finance)")
    assert (after.passed, after.reason) == (True, "done by Edsger Dijkstra on 2026-03-02")


# -- metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparison", "value", "passed"),
    [
        (">=", 39.5, False),
        (">=", 40, True),
        (">=", 41, True),
        (">", 40, False),
        (">", 40.5, True),
        ("<=", 40, True),
        ("<=", 40.5, False),
        ("<", 40, False),
        ("<", 39.5, True),
    ],
)
def test_a_metric_threshold_reads_the_value_against_what_it_needs(
    comparison: str, value: float, passed: bool
) -> None:
    pb = playbook(discovery=metric_gate(comparison, 40))
    state = given(register(pb), measure("activation", value))

    result = criterion(state, "activation")

    assert result.passed is passed
    assert result.reason == f"activation rate is {value:g} %, needs {comparison} 40 %"


def test_a_metric_not_recorded_yet_fails_and_says_what_it_needs() -> None:
    pb = playbook(discovery={"metrics": [{"metric": "nps", "comparison": ">", "threshold": 0}]})

    result = criterion(given(register(pb)), "nps")

    assert (result.passed, result.reason) == (
        False,
        "net promoter score not recorded yet; needs > 0",
    )


def test_the_latest_metric_reading_is_the_one_judged() -> None:
    pb = playbook(discovery=metric_gate(">=", 40))
    state = given(register(pb), measure("activation", 50), measure("activation", 30))

    result = criterion(state, "activation")

    assert (result.passed, result.reason) == (False, "activation rate is 30 %, needs >= 40 %")


# -- sign-offs ---------------------------------------------------------------------------------

SIGNED = playbook(
    discovery={"sign_offs": [{"role": "legal", "min_approvals": 2}, {"role": "finance"}]}
)


def test_sign_offs_before_any_review_say_none_was_requested() -> None:
    state = given(register(SIGNED))

    legal, finance = criterion(state, "legal"), criterion(state, "finance")

    assert (legal.passed, legal.reason) == (
        False,
        "no gate review requested yet; needs 2 approval(s) from legal",
    )
    assert finance.reason == "no gate review requested yet; needs 1 approval(s) from finance"


def test_sign_offs_count_approvals_per_role_in_the_current_round() -> None:
    state = given(register(SIGNED), request_review(), approve(LINUS, "legal"))

    assert criterion(state, "legal").reason == "1 of 2 approvals from legal (round 1): Linus Legal"
    assert criterion(state, "finance").reason == "0 of 1 approvals from finance (round 1)"

    state = then(then(state, approve(MARGARET, "legal")), approve(EDSGER, "finance"))

    assert (
        criterion(state, "legal").reason
        == "2 of 2 approvals from legal (round 1): Linus Legal, Margaret Hamilton"
    )
    assert criterion(state, "finance").reason == (
        "1 of 1 approvals from finance (round 1): Edsger Dijkstra"
    )
    assert evaluation(state).passed


def test_a_rejection_fails_every_sign_off_and_names_who_rejected_and_why() -> None:
    state = given(
        register(SIGNED),
        request_review(),
        approve(LINUS, "legal"),
        approve(MARGARET, "legal"),
        reject(EDSGER, "finance", "the business case does not add up"),
    )

    expected = "rejected in round 1 by Edsger Dijkstra (finance): the business case does not add up"
    assert [(c.passed, c.reason) for c in evaluation(state).criteria] == [
        (False, expected),
        (False, expected),
    ]


def test_a_new_round_counts_from_zero_again() -> None:
    state = given(
        register(SIGNED),
        request_review(),
        approve(LINUS, "legal"),
        reject(EDSGER, "finance", "no"),
        request_review(),
    )

    assert criterion(state, "legal").reason == "0 of 2 approvals from legal (round 2)"


# -- moving on ---------------------------------------------------------------------------------


def test_evidence_and_checklist_start_over_for_the_next_gate_while_metrics_persist() -> None:
    same_criteria = {
        "evidence": [{"key": "interview", "title": "customer interviews"}],
        "checklist": [{"key": "personas", "title": "Personas", "owner_role": "pm"}],
        "metrics": [{"metric": "activation", "comparison": ">=", "threshold": 40}],
    }
    pb = playbook(discovery=same_criteria, planning=same_criteria)
    state = given(register(pb), evidence("interview"), tick("personas"), measure("activation", 45))
    assert evaluation(state).passed

    state = then(state, go())

    result = evaluation(state)
    assert result.gate is Stage.PLANNING
    assert [(c.key, c.passed, c.reason) for c in result.criteria] == [
        ("personas", False, "not done yet (owner role: pm)"),
        ("interview", False, "0 of 1 customer interviews logged"),
        ("activation", True, "activation rate is 45 %, needs >= 40 %"),
    ]
    assert state.metrics["activation"].value == 45


def test_an_approved_review_does_not_carry_over_to_the_next_gate() -> None:
    legal = {"sign_offs": [{"role": "legal"}]}
    pb = playbook(discovery=legal, planning=legal)
    state = given(register(pb), request_review(), approve(LINUS, "legal"), go())

    assert criterion(state, "legal").reason == (
        "no gate review requested yet; needs 1 approval(s) from legal"
    )
    assert state.progress is not None
    assert state.progress.rounds == 0


@pytest.mark.parametrize(
    ("value", "threshold", "reason"),
    [
        (999_999.5, 1_000_000, "net promoter score is 999999.5, needs >= 1000000"),
        (1_234_567, 1_000_000, "net promoter score is 1234567, needs >= 1000000"),
        (0.125, 0.5, "net promoter score is 0.125, needs >= 0.5"),
        (-3, 0, "net promoter score is -3, needs >= 0"),
    ],
)
def test_metric_values_read_exactly_without_rounding_or_exponents(
    value: float, threshold: float, reason: str
) -> None:
    # A value just short of a large threshold must not read as if it met it.
    pb = playbook(
        discovery={"metrics": [{"metric": "nps", "comparison": ">=", "threshold": threshold}]}
    )

    result = criterion(given(register(pb), measure("nps", value)), "nps")

    assert result.reason == reason
