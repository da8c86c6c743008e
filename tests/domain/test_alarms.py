"""The product's one alarm: the earliest moment any of its timers wants the workflow awake."""

from datetime import timedelta

from domain.alarms import next_alarm
from domain.playbook import Playbook
from domain.review_clock import next_review_alarm
from domain.rules.growth import next_review_at
from tests.domain.dsl import GRACE, NOW, given, go, kill, register, request_review, then
from tests.domain.plans import LAUNCH_WORK, plans_document


def reviewed_growth_playbook(remind_every: str) -> Playbook:
    document = plans_document()
    for stage in document["stages"]:  # type: ignore[attr-defined]
        if stage["stage"] == "growth":
            stage["exit_gate"].update(
                sign_offs=[{"role": "legal"}],
                review={"sla": "P60D", "remind_every": remind_every},
            )
    return Playbook.model_validate(document)


def test_the_alarm_is_the_earlier_of_a_review_reminder_and_the_kpi_review() -> None:
    pb = reviewed_growth_playbook(remind_every="P10D")
    state = then(given(register(pb), go(), go(), go(), *LAUNCH_WORK, go()), request_review())

    assert next_review_alarm(state) == NOW + timedelta(days=10)
    assert next_review_at(state) == NOW + timedelta(days=30)
    assert next_alarm(state) == NOW + timedelta(days=10)


def test_a_kpi_review_due_before_the_next_reminder_comes_first() -> None:
    pb = reviewed_growth_playbook(remind_every="P45D")
    state = then(given(register(pb), go(), go(), go(), *LAUNCH_WORK, go()), request_review())

    assert next_alarm(state) == NOW + timedelta(days=30)


def test_a_terminal_product_has_no_alarm() -> None:
    pb = reviewed_growth_playbook(remind_every="P10D")
    state = given(register(pb), go(), go(), go(), *LAUNCH_WORK, go(), kill(by=GRACE))

    assert next_alarm(state) is None
