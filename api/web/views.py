"""What the pages show, computed from domain state: plain data for the templates."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.web.portfolio import duration_label
from domain.gate_evaluation import CriterionKind, GateEvaluation, evaluate_current_gate
from domain.stages import LIFECYCLE_PATH, TERMINAL_STAGES, Stage
from domain.state import ProductState, SignOffRecord

BOARD_STAGES: tuple[Stage, ...] = (*LIFECYCLE_PATH, Stage.KILLED)
WORKING_STAGES: tuple[Stage, ...] = tuple(s for s in LIFECYCLE_PATH if s not in TERMINAL_STAGES)
GATE_STATUSES: dict[str, str] = {
    "blocked": "blocked",
    "ready": "ready",
    "awaiting": "awaiting sign-off",
    "overdue": "overdue",
    "on-hold": "on hold",
}


@dataclass(frozen=True)
class GateStatus:
    key: str  # one of GATE_STATUSES, or "done" for a retired or killed product
    label: str
    detail: str


def gate_status(
    state: ProductState, evaluation: GateEvaluation | None, now: datetime
) -> GateStatus:
    if state.is_terminal or evaluation is None:
        label = state.stage.value if state.stage else "unknown"
        return GateStatus("done", label, state.killed_reason or "")
    if state.on_hold:
        return GateStatus("on-hold", "on hold", state.hold_reason)
    review = state.progress.review if state.progress else None
    if evaluation.passed:
        return GateStatus("ready", "ready", "every criterion holds; waiting for a decision")
    rejection = review.rejection() if review else None
    if review is not None and rejection is None:
        if review.due_at is not None and review.due_at <= now:
            return GateStatus("overdue", "overdue", f"sign-offs were due {when(review.due_at)}")
        short = [c.key for c in evaluation.unmet() if c.kind is CriterionKind.SIGN_OFF]
        return GateStatus("awaiting", "awaiting sign-off", "waiting for " + ", ".join(short))
    unmet = evaluation.unmet(ignore_sign_offs=True)
    if not unmet and rejection is None:
        return GateStatus("ready", "ready", "criteria hold; a review can be requested")
    if rejection is not None:
        return GateStatus("blocked", "blocked", f"rejected by {rejection.signer.display_name}")
    return GateStatus("blocked", "blocked", f"{len(unmet)} criteria unmet")


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def web_link(uri: str) -> bool:
    """Only http(s) links become clickable: never javascript: or data: from a form field."""
    return uri.lower().startswith(("https://", "http://"))


def days_between(start: datetime | None, end: datetime) -> int:
    return max(0, (end - start).days) if start else 0


@dataclass(frozen=True)
class Card:
    product_id: str
    name: str
    owner: str
    owner_name: str
    stage: Stage
    days_in_stage: int
    status: GateStatus


def card_for(state: ProductState, now: datetime) -> Card:
    assert state.product_id is not None
    assert state.stage is not None
    return Card(
        product_id=state.product_id,
        name=state.name,
        owner=state.owner,
        owner_name=state.owner_name,
        stage=state.stage,
        days_in_stage=days_between(state.stage_entered_at, now),
        status=gate_status(state, evaluate_current_gate(state), now),
    )


@dataclass(frozen=True)
class Bar:
    stage: str
    days: float
    label: str
    products: int
    y: int
    width: float
    label_y: int


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    height: int
    plot_width: int
    label_width: int
    empty: bool

    @property
    def summary(self) -> str:
        """The chart in words, for the SVG's <desc>: what a screen reader says instead."""
        return "; ".join(
            f"{b.stage}: {b.label} over {b.products} visit{'' if b.products == 1 else 's'}"
            for b in self.bars
            if b.products
        )


def stage_duration_chart(states: Iterable[ProductState], now: datetime) -> Chart:
    """Average days spent in each working stage, over every visit (the current one counts
    up to now), as bar geometry for an inline SVG."""
    spent: dict[Stage, list[float]] = defaultdict(list)
    for state in states:
        visits = state.history
        for index, visit in enumerate(visits):
            if visit.stage in TERMINAL_STAGES:
                continue
            end = visits[index + 1].entered_at if index + 1 < len(visits) else now
            spent[visit.stage].append(max(0.0, (end - visit.entered_at).total_seconds() / 86400))
    averages = {s: sum(v) / len(v) for s, v in spent.items() if v}
    longest = max(averages.values(), default=0.0) or 1.0
    label_width, plot_width, row = 96, 250, 26
    bars = tuple(
        Bar(
            stage=stage.value,
            days=round(averages.get(stage, 0.0), 1),
            label=duration_label(averages.get(stage, 0.0)),
            products=len(spent.get(stage, [])),
            y=8 + i * row,
            width=round(plot_width * averages.get(stage, 0.0) / longest, 1),
            label_y=8 + i * row + 15,
        )
        for i, stage in enumerate(WORKING_STAGES)
    )
    return Chart(
        bars=bars,
        height=16 + len(bars) * row,
        plot_width=plot_width,
        label_width=label_width,
        empty=not averages,
    )


@dataclass(frozen=True)
class Missing:
    role: str
    approvals: int
    needed: int
    optional: bool


def missing_sign_offs(state: ProductState) -> list[Missing]:
    gate = state.current_gate()
    review = state.progress.review if state.progress else None
    if gate is None:
        return []
    result = []
    for requirement in gate.sign_offs:
        count = len(review.approvals_in(requirement.role)) if review else 0
        if count < requirement.min_approvals and not (requirement.optional and review):
            result.append(
                Missing(requirement.role, count, requirement.min_approvals, requirement.optional)
            )
    return result


@dataclass(frozen=True)
class Signature:
    printed_name: str
    subject: str
    role: str
    verdict: str
    reason: str
    signed_at: str
    on_behalf_of: str
    round: int
    standing: str  # "current", "revoked" or "closed round"


def _signature(record: SignOffRecord, round_: int, standing: str) -> Signature:
    behalf = record.on_behalf_of
    return Signature(
        printed_name=record.signer.display_name,
        subject=record.signer.subject,
        role=record.signer.role or "",
        verdict=record.verdict.value,
        reason=record.reason,
        signed_at=when(record.signed_at),
        on_behalf_of=f"{behalf.display_name} ({behalf.subject})" if behalf else "",
        round=round_,
        standing=standing,
    )


def signatures(state: ProductState) -> list[Signature]:
    """Sign-offs at the current gate: the open round's, then revoked and earlier rounds'."""
    progress = state.progress
    if progress is None:
        return []
    result: list[Signature] = []
    if progress.review is not None:
        review = progress.review
        result += [_signature(s, review.round, "current") for s in review.sign_offs]
        result += [_signature(s, review.round, "revoked") for s in review.revoked]
    for closed in reversed(progress.closed_reviews):
        result += [_signature(s, closed.round, "closed round") for s in closed.sign_offs]
    return result


_EVENT_TITLES = {
    "ProductRegistered": "Registered",
    "EvidenceSubmitted": "Evidence submitted",
    "ChecklistItemCompleted": "Checklist item done",
    "ChecklistItemReopened": "Checklist item reopened",
    "MetricRecorded": "Metric recorded",
    "GateReviewRequested": "Gate review requested",
    "SignOffGiven": "Signed",
    "SignOffRevoked": "Sign-off revoked",
    "GateReviewVoided": "Review round voided",
    "ApproversReminded": "Approvers reminded",
    "ReviewEscalated": "Review escalated",
    "ReviewTimedOut": "Review timed out",
    "GateDecided": "Gate decided",
    "ConditionMet": "Condition met",
    "StageEntered": "Stage entered",
    "ProductKilled": "Killed",
}


@dataclass(frozen=True)
class TimelineEntry:
    title: str
    kind: str
    printed_name: str
    subject: str
    role: str
    meaning: str
    reason: str
    at: str
    on_behalf_of: str
    detail: str


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def timeline_entry(data: dict[str, Any], recorded_at: datetime) -> TimelineEntry:
    kind = _text(data, "type")
    actor = data.get("actor") if isinstance(data.get("actor"), dict) else {}
    assert isinstance(actor, dict)
    behalf = data.get("on_behalf_of")
    meaning = _text(data, "verdict") or _text(data, "outcome")
    if kind == "GateDecided" and data.get("automatic"):
        meaning += " (automatic)"
    detail = {
        "ProductRegistered": _text(data, "name"),
        "EvidenceSubmitted": f"{_text(data, 'requirement')}: {_text(data, 'title')}",
        "ChecklistItemCompleted": _text(data, "item"),
        "ChecklistItemReopened": _text(data, "item"),
        "MetricRecorded": (
            f"{_text(data, 'metric')} = {data.get('value')} {_text(data, 'unit')}"
            f" from {_text(data, 'source')}"
        ),
        "GateReviewRequested": f"gate {_text(data, 'gate')}, round {data.get('round')}",
        "SignOffGiven": f"gate {_text(data, 'gate')}, round {data.get('round')}",
        "GateDecided": f"gate {_text(data, 'gate')}",
        "StageEntered": f"{_text(data, 'previous_stage')} → {_text(data, 'stage')}",
        "ReviewEscalated": f"to {_text(data, 'to_role')}",
    }.get(kind, "")
    return TimelineEntry(
        title=_EVENT_TITLES.get(kind, kind),
        kind=kind,
        printed_name=_text(actor, "display_name"),
        subject=_text(actor, "subject"),
        role=_text(actor, "role"),
        meaning=meaning,
        reason=_text(data, "reason") or _text(data, "note"),
        at=when(recorded_at),
        on_behalf_of=(
            f"{behalf.get('display_name')} ({behalf.get('subject')})"
            if isinstance(behalf, dict)
            else ""
        ),
        detail=detail,
    )


def owners(cards: Sequence[Card]) -> list[tuple[str, str]]:
    return sorted({(c.owner, c.owner_name) for c in cards}, key=lambda o: o[1].lower())
