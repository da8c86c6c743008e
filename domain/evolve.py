"""evolve(state, event) -> state: the only way state changes, used live and on replay."""

from collections.abc import Callable
from datetime import datetime

from domain.commands import GateOutcome, Verdict
from domain.events import (
    ApproversReminded,
    ChecklistItemCompleted,
    ChecklistItemReopened,
    ConditionMet,
    Event,
    EvidenceSubmitted,
    GateDecided,
    GateReviewRequested,
    GateReviewVoided,
    MetricRecorded,
    PlaybookAdopted,
    PlaybookAdoptionScheduled,
    ProductKilled,
    ProductRegistered,
    ReviewEscalated,
    ReviewTimedOut,
    SignOffGiven,
    SignOffRevoked,
    StageEntered,
)
from domain.evolve_plans import on_stage_entered, plan_changes
from domain.stages import Stage, next_stage
from domain.state import (
    ChecklistTick,
    EvidenceRecord,
    GateCondition,
    GateProgress,
    GateReview,
    MetricReading,
    ProductState,
    SignOffRecord,
    StageVisit,
)


def evolve(state: ProductState, event: Event) -> ProductState:
    changes = _changes(state, event)
    return state.model_copy(update={**changes, "version": state.version + 1})


def evolve_all(state: ProductState, events: list[Event]) -> ProductState:
    for event in events:
        state = evolve(state, event)
    return state


def _progress_toward(stage: Stage) -> GateProgress | None:
    """A fresh start on the gate that closes `stage`: nothing gathered, no review yet."""
    return None if next_stage(stage) is None else GateProgress(gate=stage)


def _visit(stage: Stage, at: datetime) -> StageVisit:
    return StageVisit(stage=stage, entered_at=at)


def _with_review(
    state: ProductState, change: Callable[[GateReview], dict[str, object]]
) -> dict[str, object]:
    progress = state.progress
    assert progress is not None
    assert progress.review is not None
    review = progress.review.model_copy(update=change(progress.review))
    return {"progress": progress.model_copy(update={"review": review})}


def _timed_out(state: ProductState, event: ReviewTimedOut) -> dict[str, object]:
    changes = _with_review(state, lambda r: {"timed_out": event.outcome})
    if event.outcome == "auto_reject":
        rejection = SignOffRecord(
            signer=event.actor,
            verdict=Verdict.REJECT,
            reason=f"no decision by the deadline {event.due_at.isoformat()}",
            signed_at=event.occurred_at,
        )
        progress = changes["progress"]
        assert isinstance(progress, GateProgress)
        assert progress.review is not None
        review = progress.review.model_copy(
            update={"sign_offs": (*progress.review.sign_offs, rejection)}
        )
        changes["progress"] = progress.model_copy(update={"review": review})
    if event.outcome == "hold":
        changes.update(on_hold=True, hold_reason="review deadline passed")
    return changes


def _decided(state: ProductState, event: GateDecided) -> dict[str, object]:
    match event.outcome:
        case GateOutcome.HOLD:
            return {"on_hold": True, "hold_reason": event.reason}
        case GateOutcome.RESUME:
            return {"on_hold": False, "hold_reason": ""}
        case GateOutcome.CONDITIONAL_GO:
            due_gate = next_stage(event.gate)
            assert due_gate is not None
            imposed = tuple(
                GateCondition(
                    condition_id=c.condition_id,
                    text=c.text,
                    imposed_at_gate=event.gate,
                    due_gate=due_gate,
                    imposed_at=event.occurred_at,
                )
                for c in event.conditions
            )
            return {"conditions": state.conditions + imposed}
        case _:
            return {}


def _changes(state: ProductState, event: Event) -> dict[str, object]:
    progress = state.progress
    match event:
        case ProductRegistered():
            return {
                "product_id": event.product_id,
                "name": event.name,
                "description": event.description,
                "owner": event.owner,
                "owner_name": event.owner_name,
                "playbook": event.playbook,
                "playbook_fingerprint": event.playbook_fingerprint,
                "stage": event.stage,
                "history": (StageVisit(stage=event.stage, entered_at=event.occurred_at),),
                "progress": _progress_toward(event.stage),
            }
        case EvidenceSubmitted():
            assert progress is not None
            record = EvidenceRecord(
                evidence_id=event.evidence_id,
                requirement=event.requirement,
                title=event.title,
                uri=event.uri,
                summary=event.summary,
                submitted_by=event.actor,
                submitted_at=event.occurred_at,
            )
            return {
                "progress": progress.model_copy(update={"evidence": (*progress.evidence, record)})
            }
        case ChecklistItemCompleted():
            assert progress is not None
            tick = ChecklistTick(
                item=event.item, done_by=event.actor, done_at=event.occurred_at, note=event.note
            )
            checklist = {**progress.checklist, event.item: tick}
            return {"progress": progress.model_copy(update={"checklist": checklist})}
        case ChecklistItemReopened():
            assert progress is not None
            checklist = {k: v for k, v in progress.checklist.items() if k != event.item}
            return {"progress": progress.model_copy(update={"checklist": checklist})}
        case MetricRecorded():
            current = state.metrics.get(event.metric)
            if current is not None and current.observed_at > event.observed_at:
                return {}  # a back-dated observation stays in the trail; gates judge the newest
            reading = MetricReading(
                metric=event.metric,
                value=event.value,
                unit=event.unit,
                source=event.source,
                observed_at=event.observed_at,
                recorded_by=event.actor,
            )
            return {"metrics": {**state.metrics, event.metric: reading}}
        case GateReviewRequested():
            assert progress is not None
            review = GateReview(
                round=event.round,
                requested_by=event.actor,
                requested_at=event.occurred_at,
                due_at=event.due_at,
            )
            closed = progress.closed_reviews + ((progress.review,) if progress.review else ())
            update = {"review": review, "rounds": event.round, "closed_reviews": closed}
            return {
                "progress": progress.model_copy(update=update),
                "review_rounds": {**state.review_rounds, event.gate: event.round},
            }
        case SignOffGiven():
            signature = SignOffRecord(
                signer=event.actor,
                verdict=event.verdict,
                reason=event.reason,
                signed_at=event.occurred_at,
                on_behalf_of=event.on_behalf_of,
            )
            return _with_review(state, lambda r: {"sign_offs": (*r.sign_offs, signature)})
        case SignOffRevoked():
            return _with_review(
                state,
                lambda r: {
                    "sign_offs": tuple(s for s in r.sign_offs if s.voter != event.voter),
                    "revoked": r.revoked + tuple(s for s in r.sign_offs if s.voter == event.voter),
                },
            )
        case GateReviewVoided():
            assert progress is not None
            closed = progress.closed_reviews + ((progress.review,) if progress.review else ())
            update = {"review": None, "closed_reviews": closed}
            return {"progress": progress.model_copy(update=update)}
        case ApproversReminded():
            return _with_review(state, lambda r: {"reminders": event.reminder})
        case ReviewEscalated():
            return _with_review(state, lambda r: {"escalated_to": event.to_role})
        case ReviewTimedOut():
            return _timed_out(state, event)
        case GateDecided():
            return _decided(state, event)
        case ConditionMet():
            conditions = tuple(
                c.model_copy(
                    update={"met_by": event.actor, "met_at": event.occurred_at, "note": event.note}
                )
                if c.condition_id == event.condition_id
                else c
                for c in state.conditions
            )
            return {"conditions": conditions}
        case StageEntered():
            return {
                **on_stage_entered(state, event),
                "stage": event.stage,
                "history": (
                    *state.history,
                    StageVisit(stage=event.stage, entered_at=event.occurred_at),
                ),
                "progress": _progress_toward(event.stage),
                "on_hold": False,
                "hold_reason": "",
            }
        case ProductKilled():
            return {
                "stage": Stage.KILLED,
                "history": (
                    *state.history,
                    StageVisit(stage=Stage.KILLED, entered_at=event.occurred_at),
                ),
                "progress": None,
                "killed_reason": event.reason,
            }
        case PlaybookAdoptionScheduled():
            return {"pending_playbook": event.playbook}
        case PlaybookAdopted():
            return {
                "playbook": event.playbook,
                "playbook_fingerprint": event.playbook_fingerprint,
                "pending_playbook": None,
            }
        case _:
            return plan_changes(state, event)
