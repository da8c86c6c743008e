from domain.events import ChecklistItemCompleted, ChecklistItemReopened, EvidenceSubmitted
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from tests.domain.dsl import (
    ADA,
    EDSGER,
    LINUS,
    MALLORY,
    NOW,
    PRODUCT_ID,
    evidence,
    given,
    playbook,
    refusal,
    register,
    reopen,
    then,
    tick,
    when,
)

INTERVIEWS = playbook(
    discovery={
        "evidence": [
            {"key": "interview", "title": "customer interviews", "min_count": 2},
            {"key": "sizing", "title": "market sizing analyses"},
        ]
    }
)
CHECKLIST = playbook(
    discovery={
        "checklist": [
            {"key": "personas", "title": "Personas drafted", "owner_role": "pm"},
            {"key": "budget", "title": "Budget approved", "owner_role": "finance"},
        ]
    }
)
LEGAL_CHECKLIST = playbook(
    discovery={"checklist": [{"key": "privacy", "title": "Privacy review", "owner_role": "legal"}]}
)


# -- evidence ----------------------------------------------------------------------------------


def test_submitted_evidence_is_recorded_against_the_gate_of_the_current_stage() -> None:
    state = given(register(INTERVIEWS))

    events = when(state, evidence("interview", title="Interview with ACME"))

    assert events == [
        EvidenceSubmitted(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="ada", display_name="Ada Lovelace"),
            gate=Stage.DISCOVERY,
            requirement="interview",
            evidence_id="id-2",
            title="Interview with ACME",
            uri="https://docs.example.com/1",
            summary="",
        )
    ]


def test_each_piece_of_evidence_is_kept_with_who_submitted_it_and_when() -> None:
    state = given(register(INTERVIEWS), evidence("interview", "first"))

    state = then(state, evidence("interview", "second", by=LINUS))

    assert state.progress is not None
    records = state.progress.evidence_for("interview")
    assert [(r.title, r.submitted_by.subject, r.submitted_at) for r in records] == [
        ("first", "ada", NOW),
        ("second", "linus", NOW),
    ]
    assert state.progress.evidence_for("sizing") == []


def test_evidence_for_a_requirement_the_gate_does_not_ask_for_is_refused() -> None:
    state = given(register(INTERVIEWS))

    refused = refusal(state, evidence("horoscope"))

    assert refused.rule == "evidence.unknown_requirement"
    assert refused.kind is RefusalKind.INVALID
    assert "'horoscope'" in refused.message
    assert "gate 'discovery'" in refused.message
    assert "interview, sizing" in refused.message


def test_evidence_for_a_requirement_of_a_later_gate_is_refused() -> None:
    pb = playbook(planning={"evidence": [{"key": "roadmap", "title": "roadmaps"}]})
    state = given(register(pb))

    refused = refusal(state, evidence("roadmap"))

    assert refused.rule == "evidence.unknown_requirement"
    assert "'roadmap'" in refused.message
    assert "no evidence" in refused.message


# -- checklist ---------------------------------------------------------------------------------


def test_the_item_owner_role_completes_a_checklist_item_in_that_role() -> None:
    state = given(register(CHECKLIST))

    events = when(state, tick("budget", by=EDSGER, note="signed by CFO"))

    assert events == [
        ChecklistItemCompleted(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="edsger", display_name="Edsger Dijkstra", role="finance"),
            gate=Stage.DISCOVERY,
            item="budget",
            note="signed by CFO",
        )
    ]
    done = then(state, tick("budget", by=EDSGER)).progress
    assert done is not None
    assert done.checklist["budget"].done_by.subject == "edsger"
    assert done.checklist["budget"].done_at == NOW


def test_the_product_owner_may_complete_any_item_and_is_recorded_without_a_role() -> None:
    state = given(register(CHECKLIST))

    [event] = when(state, tick("budget", by=ADA))

    assert isinstance(event, ChecklistItemCompleted)
    assert event.actor == ActorRef(subject="ada", display_name="Ada Lovelace", role=None)


def test_a_checklist_item_the_gate_does_not_list_is_refused() -> None:
    state = given(register(CHECKLIST))

    refused = refusal(state, tick("launch-party"))

    assert refused.rule == "checklist.unknown_item"
    assert refused.kind is RefusalKind.INVALID
    assert "'launch-party'" in refused.message
    assert "personas, budget" in refused.message


def test_someone_neither_owning_the_item_nor_the_product_may_not_complete_it() -> None:
    state = given(register(CHECKLIST))

    refused = refusal(state, tick("budget", by=LINUS))

    assert refused.rule == "checklist.not_item_owner"
    assert refused.kind is RefusalKind.FORBIDDEN
    assert "'budget'" in refused.message
    assert "'finance'" in refused.message
    assert "Linus Legal" in refused.message


def test_a_checklist_item_cannot_be_completed_twice() -> None:
    state = given(register(LEGAL_CHECKLIST), tick("privacy", by=LINUS))

    refused = refusal(state, tick("privacy"))

    assert refused.rule == "checklist.already_done"
    assert refused.kind is RefusalKind.CONFLICT
    assert "'privacy'" in refused.message
    assert "Linus Legal" in refused.message


def test_reopening_a_done_item_with_a_reason_undoes_it() -> None:
    state = given(register(LEGAL_CHECKLIST), tick("privacy"))

    events = when(state, reopen("privacy", "the DPA changed", by=LINUS))

    assert events == [
        ChecklistItemReopened(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="linus", display_name="Linus Legal", role="legal"),
            gate=Stage.DISCOVERY,
            item="privacy",
            reason="the DPA changed",
        )
    ]
    reopened = then(state, reopen("privacy", "the DPA changed", by=LINUS))
    assert reopened.progress is not None
    assert "privacy" not in reopened.progress.checklist
    redone = then(reopened, tick("privacy")).progress
    assert redone is not None
    assert "privacy" in redone.checklist


def test_reopening_an_item_that_is_not_done_is_refused() -> None:
    state = given(register(LEGAL_CHECKLIST))

    refused = refusal(state, reopen("privacy"))

    assert refused.rule == "checklist.not_done"
    assert refused.kind is RefusalKind.CONFLICT
    assert "'privacy'" in refused.message


def test_reopening_without_a_reason_is_refused() -> None:
    state = given(register(LEGAL_CHECKLIST), tick("privacy"))

    for blank in ("", "   "):
        refused = refusal(state, reopen("privacy", reason=blank))

        assert refused.rule == "checklist.reason_required"
        assert refused.kind is RefusalKind.INVALID
        assert "'privacy'" in refused.message


def test_reopening_is_held_to_the_same_ownership_rule_as_completing() -> None:
    state = given(register(LEGAL_CHECKLIST), tick("privacy"))

    not_owner = refusal(state, reopen("privacy", by=MALLORY))
    unknown = refusal(state, reopen("launch-party"))

    assert (not_owner.rule, not_owner.kind) == ("checklist.not_item_owner", RefusalKind.FORBIDDEN)
    assert "Mallory Nobody" in not_owner.message
    assert (unknown.rule, unknown.kind) == ("checklist.unknown_item", RefusalKind.INVALID)
    assert "'launch-party'" in unknown.message
