"""evolve(state, event) -> state: the only way state changes, used live and on replay."""

from datetime import datetime

from domain.events import (
    ChecklistItemCompleted,
    ChecklistItemReopened,
    Event,
    EvidenceSubmitted,
    GateDecided,
    GateReviewRequested,
    MetricRecorded,
    ProductKilled,
    ProductRegistered,
    SignOffGiven,
    StageEntered,
)
from domain.stages import Stage, next_stage
from domain.state import (
    ChecklistTick,
    EvidenceRecord,
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
                round=event.round, requested_by=event.actor, requested_at=event.occurred_at
            )
            return {
                "progress": progress.model_copy(update={"review": review, "rounds": event.round})
            }
        case SignOffGiven():
            assert progress is not None
            assert progress.review is not None
            signature = SignOffRecord(
                signer=event.actor,
                verdict=event.verdict,
                reason=event.reason,
                signed_at=event.occurred_at,
            )
            review = progress.review.model_copy(
                update={"sign_offs": (*progress.review.sign_offs, signature)}
            )
            return {"progress": progress.model_copy(update={"review": review})}
        case GateDecided():
            return {}
        case StageEntered():
            return {
                "stage": event.stage,
                "history": (
                    *state.history,
                    StageVisit(stage=event.stage, entered_at=event.occurred_at),
                ),
                "progress": _progress_toward(event.stage),
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
