"""The product's own Prometheus metrics, beside the Temporal SDK's.

Domain timings (time in stage, approval and decision latency) are observed where an event is
appended, in the worker, from the product's stream: each append happens in exactly one worker,
so scaled-out workers never count one decision twice, and a restart never re-counts history.
Gauges that describe the present (reviews open per stage, dead-letter depth) are read from
Postgres when scraped, so every replica reports the same truth.
"""

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from domain.stages import Stage
from store.event_store import EventStore
from store.events import AppendResult, NewEvent, RecordedEvent

__all__ = ["CONTENT_TYPE_LATEST", "TimedEventStore", "exposition", "refresh_state_gauges"]

log = structlog.get_logger("lifecycle.metrics")

_HUMAN_SECONDS = (60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400)
_STAGE_SECONDS = (3600, 86400, 7 * 86400, 30 * 86400, 90 * 86400, 180 * 86400, 365 * 86400)
_FAST_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

GATE_REVIEWS_OPEN = Gauge(
    "lifecycle_gate_reviews_open", "Gate reviews waiting for a decision, by stage.", ["stage"]
)
TIME_IN_STAGE = Histogram(
    "lifecycle_stage_duration_seconds",
    "How long a product stayed in a stage, observed when it leaves it.",
    ["stage"],
    buckets=_STAGE_SECONDS,
)
DECISION_LATENCY = Histogram(
    "lifecycle_gate_decision_latency_seconds",
    "From a gate review being requested to the gate's decision.",
    ["gate", "outcome"],
    buckets=_HUMAN_SECONDS,
)
APPROVAL_LATENCY = Histogram(
    "lifecycle_approval_latency_seconds",
    "From a gate review being requested to each sign-off in it.",
    ["gate", "verdict"],
    buckets=_HUMAN_SECONDS,
)
NOTIFICATION_FAILURES = Counter(
    "lifecycle_notification_failures_total",
    "Notification activity attempts that failed (each retry counts).",
    ["activity", "endpoint"],
)
DEAD_LETTERS_WAITING = Gauge(
    "lifecycle_notification_dead_letters",
    "Notification deliveries given up on and not yet replayed.",
)
EVENT_STORE_APPEND = Histogram(
    "lifecycle_event_store_append_seconds",
    "Event-store append latency, by outcome (appended, already_stored, error).",
    ["outcome"],
    buckets=_FAST_SECONDS,
)
HTTP_REQUESTS = Histogram(
    "lifecycle_http_request_duration_seconds",
    "API request latency by route template and status.",
    ["method", "route", "status"],
    buckets=_FAST_SECONDS,
)
ACTIVITIES = Histogram(
    "lifecycle_activity_duration_seconds",
    "Activity attempt latency by activity type and outcome.",
    ["activity", "outcome"],
    buckets=_FAST_SECONDS,
)

_TIMED_TYPES = {"StageEntered", "ProductKilled", "SignOffGiven", "GateDecided"}
# Where the timed spans begin: with the appended events, all the timings need read back.
_SPAN_STARTS = {"ProductRegistered", "GateReviewRequested", "StageEntered", "ProductKilled"}
_OPEN_REVIEWS = (
    "SELECT stage, count(*) AS open FROM public.product_states WHERE review_open GROUP BY stage"
)
_DEAD_LETTERS = """
SELECT count(*) FROM public.notification_dead_letters d
 WHERE NOT EXISTS (SELECT 1 FROM public.notification_replays r
                    WHERE r.dead_letter_id = d.dead_letter_id)
"""


def exposition() -> bytes:
    return generate_latest()


def observe_http_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).observe(seconds)


def observe_activity(activity_type: str, outcome: str, seconds: float) -> None:
    ACTIVITIES.labels(activity_type, outcome).observe(seconds)


def record_notification_failure(activity_type: str, endpoint: str = "") -> None:
    NOTIFICATION_FAILURES.labels(activity_type, endpoint).inc()


async def refresh_state_gauges(pool: asyncpg.Pool) -> None:
    """Reviews open per stage from the product projection; dead letters waiting, where the
    dead-letter tables exist (migration 0006); without them the gauge stays absent."""
    rows = await pool.fetch(_OPEN_REVIEWS)
    counts = {row["stage"]: row["open"] for row in rows}
    for stage in Stage:
        GATE_REVIEWS_OPEN.labels(stage.value).set(counts.get(stage.value, 0))
    try:
        waiting = await pool.fetchval(_DEAD_LETTERS)
    except asyncpg.UndefinedTableError:
        return
    DEAD_LETTERS_WAITING.set(waiting or 0)


class TimedEventStore(EventStore):
    """The event store, timing each append and observing the domain's timings in what it
    appended. Metrics never fail an append: a problem observing them is logged and dropped.

    The domain timings need the product's stream read back, so they are observed after the
    append has answered, in the background: a sign-off's answer never waits for its metrics.
    Only the events where spans begin and those of the appended types are read back: the
    whole stream, re-read and decoded after every timed event, was the largest share of our
    own code in a busy worker's profile (docs/performance.md)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self._observing: set[asyncio.Task[None]] = set()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        started = time.perf_counter()
        try:
            result = await super().append(stream_id, expected_version, events)
        except Exception:
            EVENT_STORE_APPEND.labels("error").observe(time.perf_counter() - started)
            raise
        outcome = "already_stored" if result.already_stored else "appended"
        EVENT_STORE_APPEND.labels(outcome).observe(time.perf_counter() - started)
        if not result.already_stored and any(e.type in _TIMED_TYPES for e in events):
            types = _SPAN_STARTS | {e.type for e in events}
            task = asyncio.create_task(
                self._observe(stream_id, {e.event_id for e in events}, types)
            )
            self._observing.add(task)
            task.add_done_callback(self._observing.discard)
        return result

    async def _observe(self, stream_id: str, appended: set[uuid.UUID], types: set[str]) -> None:
        try:
            stream = await self.read_stream(stream_id, types=types)
            observe_lifecycle_timings(stream, appended)
        except Exception:
            log.warning("metrics.observe_failed", stream_id=stream_id, exc_info=True)


def observe_lifecycle_timings(stream: Sequence[RecordedEvent], appended: set[uuid.UUID]) -> None:
    """Walks the product's stream in order and observes the timings the appended events end:
    leaving a stage, a sign-off, a decision, each measured from when its span began."""
    stage_since: datetime | None = None
    requested: dict[tuple[str, int], datetime] = {}
    latest_round: dict[str, int] = {}
    for event in stream:
        data, at = event.data, event.recorded_at
        new = event.event_id in appended
        if event.type == "ProductRegistered":
            stage_since = at
        elif event.type == "GateReviewRequested":
            requested[(data["gate"], data["round"])] = at
            latest_round[data["gate"]] = data["round"]
        elif event.type == "SignOffGiven" and new:
            began = requested.get((data["gate"], data["round"]))
            if began is not None:
                seconds = (at - began).total_seconds()
                APPROVAL_LATENCY.labels(data["gate"], data["verdict"]).observe(seconds)
        elif event.type == "GateDecided" and new:
            round_ = latest_round.get(data["gate"])
            began = requested.get((data["gate"], round_)) if round_ is not None else None
            if began is not None:
                seconds = (at - began).total_seconds()
                DECISION_LATENCY.labels(data["gate"], data["outcome"]).observe(seconds)
        elif event.type in ("StageEntered", "ProductKilled"):
            left = data["previous_stage"] if event.type == "StageEntered" else data["stage"]
            if new and stage_since is not None:
                TIME_IN_STAGE.labels(left).observe((at - stage_since).total_seconds())
            stage_since = at
