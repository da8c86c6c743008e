from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.events import MetricRecorded
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from tests.domain.dsl import (
    EARLIER,
    GRACE,
    NOW,
    PRODUCT_ID,
    given,
    measure,
    playbook,
    refusal,
    register,
    then,
    when,
)


def test_a_recorded_metric_carries_the_playbook_unit_and_is_observed_now_by_default() -> None:
    state = given(register(playbook()))

    events = when(state, measure("activation", 42.5))

    assert events == [
        MetricRecorded(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
            metric="activation",
            value=42.5,
            unit="%",
            source="analytics",
            observed_at=NOW,
        )
    ]


def test_a_metric_may_be_recorded_for_an_earlier_observation_time() -> None:
    state = given(register(playbook()))

    [event] = when(state, measure("nps", 31, observed_at=EARLIER))

    assert isinstance(event, MetricRecorded)
    assert event.observed_at == EARLIER
    assert event.occurred_at == NOW
    assert event.unit == ""


def test_the_latest_reading_of_each_metric_is_kept_with_who_recorded_it() -> None:
    state = given(register(playbook()), measure("activation", 10))

    state = then(state, measure("activation", 20, by=GRACE))

    reading = state.metrics["activation"]
    assert (reading.value, reading.unit, reading.source) == (20, "%", "analytics")
    assert reading.recorded_by.subject == "grace"
    assert set(state.metrics) == {"activation"}


def test_a_metric_the_playbook_does_not_define_is_refused() -> None:
    state = given(register(playbook()))

    refused = refusal(state, measure("vanity", 1))

    assert refused.rule == "metric.unknown"
    assert refused.kind is RefusalKind.INVALID
    assert "'vanity'" in refused.message
    assert "activation, churn, nps" in refused.message


def test_an_observation_from_the_future_is_refused() -> None:
    state = given(register(playbook()))
    tomorrow = NOW + timedelta(days=1)

    refused = refusal(state, measure("activation", 50, observed_at=tomorrow))

    assert refused.rule == "metric.observed_in_future"
    assert refused.kind is RefusalKind.INVALID
    assert "'activation'" in refused.message
    assert tomorrow.isoformat() in refused.message


def test_an_observation_at_exactly_now_is_not_in_the_future() -> None:
    state = given(register(playbook()))

    [event] = when(state, measure("activation", 50, observed_at=NOW))

    assert isinstance(event, MetricRecorded)
    assert event.observed_at == NOW


def test_an_observation_time_without_a_timezone_is_not_a_valid_command() -> None:
    # A naive time cannot be compared with workflow time; it must fail as a malformed command
    # at the edge rather than crash the decision.
    with pytest.raises(ValidationError, match="timezone"):
        measure("activation", 50, observed_at=datetime(2026, 3, 1, 12, 0))


def test_a_back_dated_observation_is_recorded_but_does_not_replace_a_newer_reading() -> None:
    state = given(register(playbook()), measure("activation", 45, observed_at=NOW))

    events = when(state, measure("activation", 30, observed_at=EARLIER))
    state = then(state, measure("activation", 30, observed_at=EARLIER))

    assert [e.type for e in events] == ["MetricRecorded"]
    assert state.version == 3
    assert (state.metrics["activation"].value, state.metrics["activation"].observed_at) == (
        45,
        NOW,
    )


def test_a_reading_for_the_same_observation_time_corrects_the_earlier_one() -> None:
    state = given(register(playbook()), measure("activation", 45, observed_at=EARLIER))

    state = then(state, measure("activation", 44, observed_at=EARLIER))

    assert state.metrics["activation"].value == 44
