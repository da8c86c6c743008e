"""A newer playbook version reaches a running product at its next stage, or now by an audited
migration; never silently under the people working toward a gate."""

from typing import Literal

from domain.commands import AdoptPlaybook
from domain.events import GateReviewVoided, PlaybookAdopted, PlaybookAdoptionScheduled
from domain.identity import Actor
from domain.playbook import Playbook
from domain.playbook_changes import criteria_changes
from domain.stages import Stage
from tests.domain.dsl import (
    ADA,
    GRACE,
    LINUS,
    approve,
    evidence,
    given,
    go,
    playbook,
    refusal,
    register,
    request_review,
    then,
    types,
    when,
)

LEGAL_SIGN_OFF = {"sign_offs": [{"role": "legal"}]}
V1 = playbook(
    version=1,
    discovery={"evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}]},
)
# Version 2 asks for more interviews in discovery and a market sizing in planning.
V2 = playbook(
    version=2,
    discovery={"evidence": [{"key": "interview", "title": "customer interviews", "min_count": 5}]},
    planning={"evidence": [{"key": "sizing", "title": "market sizings", "min_count": 1}]},
)


def adopt(
    pb: Playbook,
    effective: Literal["next_stage", "now"] = "next_stage",
    by: Actor = GRACE,
    reason: str = "v2 rollout",
) -> AdoptPlaybook:
    return AdoptPlaybook(actor=by, playbook=pb, effective=effective, reason=reason)


def test_a_newer_version_waits_for_the_next_stage_by_default() -> None:
    state = given(register(V1))

    events = when(state, adopt(V2))

    assert types(events) == ["PlaybookAdoptionScheduled"]
    scheduled = events[0]
    assert isinstance(scheduled, PlaybookAdoptionScheduled)
    assert scheduled.from_version == 1
    assert scheduled.playbook_fingerprint == V2.fingerprint()
    after = then(state, adopt(V2))
    assert after.playbook == V1
    assert after.pending_playbook == V2


def test_the_gate_being_worked_toward_keeps_the_criteria_it_was_opened_with() -> None:
    state = given(register(V1), evidence("interview"), evidence("interview"), adopt(V2))

    events = when(state, go())

    assert "StageEntered" in types(events)
    adopted = events[-1]
    assert isinstance(adopted, PlaybookAdopted)
    assert adopted.effective == "stage_entry"
    assert adopted.from_version == 1
    assert adopted.actor.subject == "system:lifecycle"


def test_after_the_stage_entry_the_product_runs_the_new_version() -> None:
    state = given(register(V1), evidence("interview"), evidence("interview"), adopt(V2), go())

    assert state.stage is Stage.PLANNING
    assert state.playbook == V2
    assert state.playbook_fingerprint == V2.fingerprint()
    assert state.pending_playbook is None
    adopted_changes = when(
        given(register(V1), evidence("interview"), evidence("interview"), adopt(V2)), go()
    )[-1]
    assert isinstance(adopted_changes, PlaybookAdopted)
    assert [c.change for c in adopted_changes.changes] == ["added"]
    assert adopted_changes.changes[0].title == "market sizings"


def test_migrating_now_records_which_criteria_change_and_applies_them_at_once() -> None:
    state = given(register(V1), evidence("interview"), evidence("interview"))

    events = when(state, adopt(V2, effective="now", reason="regulator asks for five interviews"))

    assert types(events) == ["PlaybookAdopted"]
    adopted = events[0]
    assert isinstance(adopted, PlaybookAdopted)
    assert adopted.effective == "now"
    assert adopted.reason == "regulator asks for five interviews"
    (change,) = adopted.changes
    assert change.change == "changed"
    assert change.passed_before is True
    assert change.passed_after is False
    assert "2 of 5" in (change.after or "")
    after = then(state, adopt(V2, effective="now"))
    assert after.playbook == V2
    assert after.progress is not None
    assert len(after.progress.evidence_for("interview")) == 2


def test_migrating_now_closes_an_open_review_whose_sign_offs_were_on_the_old_criteria() -> None:
    signed = playbook(version=1, discovery=LEGAL_SIGN_OFF)
    newer = playbook(
        version=2,
        discovery={
            **LEGAL_SIGN_OFF,
            "checklist": [{"key": "dpia", "title": "DPIA", "owner_role": "legal"}],
        },
    )
    state = given(register(signed), request_review(), approve(LINUS, "legal"))

    events = when(state, adopt(newer, effective="now"))

    assert types(events) == ["GateReviewVoided", "PlaybookAdopted"]
    voided = events[0]
    assert isinstance(voided, GateReviewVoided)
    assert "version 2" in voided.reason
    progress = then(state, adopt(newer, effective="now")).progress
    assert progress is not None
    assert progress.review is None


def test_the_same_criteria_under_a_new_version_show_no_changes() -> None:
    state = given(register(V1))
    same_rules = playbook(
        version=3,
        discovery={
            "evidence": [{"key": "interview", "title": "customer interviews", "min_count": 2}]
        },
    )

    assert criteria_changes(state, same_rules) == ()


def test_a_version_that_is_not_newer_is_refused_naming_both_versions() -> None:
    state = given(register(V2))

    refused = refusal(state, adopt(V1))

    assert refused.rule == "playbook.not_newer"
    assert "version 1 is not newer than version 2" in refused.message


def test_a_version_no_newer_than_the_one_already_waiting_is_refused() -> None:
    state = given(register(V1), adopt(V2))

    refused = refusal(state, adopt(V2))

    assert refused.rule == "playbook.not_newer"
    assert "waits for the next stage" in refused.message


def test_another_playbook_is_not_a_version_of_the_one_in_force() -> None:
    state = given(register(V1))
    other = Playbook.model_validate({**V2.model_dump(mode="json"), "name": "other"})

    refused = refusal(state, adopt(other))

    assert refused.rule == "playbook.other_playbook"
    assert "'other' is another playbook" in refused.message


def test_only_a_gatekeeper_of_the_current_gate_may_change_the_playbook() -> None:
    state = given(register(V1))

    refused = refusal(state, adopt(V2, by=ADA))

    assert refused.rule == "playbook.not_a_gatekeeper"
    assert "ada" in refused.message
    assert "gatekeeper" in refused.message


def test_a_closed_product_takes_no_new_playbook() -> None:
    state = given(register(playbook()), *[go()] * 7)

    refused = refusal(state, adopt(playbook(version=2)))

    assert state.stage is Stage.RETIRED
    assert refused.rule == "product.closed"
