"""Portfolio analytics read off the trail: time in stage, gate first-pass rate, approval
latency per approver and role, products killed per stage.

Computed from the events themselves rather than from a read model, so every figure can be
traced to the events that made it, and the same figures can be asked "as of" any instant.
``analyse`` is pure (events and an instant in, figures out); ``portfolio_analytics`` loads the
events.

Definitions:

* time in stage: from entering a stage (registration, ``StageEntered``) to entering the next
  (or being killed). The spread per stage counts finished stays only; a product's own list also
  shows its current stay, up to the instant asked about. Terminal stages have no duration.
* first-pass rate of a gate: of the products with a decision at that gate, the share whose
  *first* decision there was Go or Conditional Go.
* approval latency: from a review round being requested to a sign-off in that round, per person
  who signed (and per role they signed in).
* median and p90 use the nearest-rank method on seconds.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.events import EVENT_ADAPTER
from store.trail import PRODUCT_STREAM_PREFIX, UnreadableEvent

__all__ = [
    "AnalyticsCache",
    "PortfolioAnalytics",
    "Tally",
    "analyse",
    "percentile",
    "portfolio_analytics",
]

_TERMINAL = frozenset({"retired", "killed"})
_PASSING = frozenset({"go", "conditional_go"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Spread(_Frozen):
    count: int
    median_seconds: float | None
    p90_seconds: float | None


class StageStay(_Frozen):
    stage: str
    entered_at: datetime
    left_at: datetime | None  # None: still there at the instant asked about
    seconds: float


class ProductStages(_Frozen):
    product_id: str
    stays: list[StageStay]


class GatePassRate(_Frozen):
    gate: str
    decided: int
    first_pass: int
    rate: float | None


class ApproverLatency(_Frozen):
    subject: str
    printed_name: str
    latency: Spread


class RoleLatency(_Frozen):
    role: str
    latency: Spread


class PortfolioAnalytics(_Frozen):
    as_of: datetime
    products: list[ProductStages]
    time_in_stage: dict[str, Spread]
    gate_first_pass: list[GatePassRate]
    approval_latency_by_approver: list[ApproverLatency]
    approval_latency_by_role: list[RoleLatency]
    killed_per_stage: dict[str, int]


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p <= 100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def spread(values: list[float]) -> Spread:
    return Spread(
        count=len(values), median_seconds=percentile(values, 50), p90_seconds=percentile(values, 90)
    )


def _at(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(data["occurred_at"]))


class Tally:
    """The running sums the figures are folded into, one event at a time in log order.

    Kept between reads by ``AnalyticsCache`` so a later read folds in only the events appended
    since; ``analyse`` uses a fresh one. Order matters (a gate's *first* decision, a round's
    latest request), so events must come in log order, each once.
    """

    def __init__(self) -> None:
        self.entered: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
        self.first_decision: dict[tuple[str, str], str] = {}
        self.requested: dict[tuple[str, str, int], datetime] = {}
        self.by_approver: dict[str, list[float]] = defaultdict(list)
        self.names: dict[str, str] = {}
        self.by_role: dict[str, list[float]] = defaultdict(list)
        self.killed: Counter[str] = Counter()

    def add(self, product_id: str, kind: str, data: dict[str, Any]) -> None:
        if kind in ("ProductRegistered", "StageEntered"):
            self.entered[product_id].append((str(data["stage"]), _at(data)))
        elif kind == "ProductKilled":
            self.entered[product_id].append(("killed", _at(data)))
            self.killed[str(data["stage"])] += 1
        elif kind == "GateDecided":
            self.first_decision.setdefault((product_id, str(data["gate"])), str(data["outcome"]))
        elif kind == "GateReviewRequested":
            self.requested[(product_id, str(data["gate"]), int(data["round"]))] = _at(data)
        elif kind == "SignOffGiven":
            asked = self.requested.get((product_id, str(data["gate"]), int(data["round"])))
            if asked is None:
                return
            seconds = (_at(data) - asked).total_seconds()
            actor = data.get("actor") or {}
            subject = str(actor.get("subject"))
            self.names[subject] = str(actor.get("display_name", subject))
            self.by_approver[subject].append(seconds)
            self.by_role[str(actor.get("role"))].append(seconds)

    def figures(self, now: datetime) -> PortfolioAnalytics:
        """The figures of everything added so far; current stays run to ``now``."""
        products, finished = _stays(self.entered, now)
        first = self.first_decision
        decided: Counter[str] = Counter(gate for _, gate in first)
        passed: Counter[str] = Counter(g for (_, g), o in first.items() if o in _PASSING)
        return PortfolioAnalytics(
            as_of=now,
            products=products,
            time_in_stage={stage: spread(values) for stage, values in sorted(finished.items())},
            gate_first_pass=[
                GatePassRate(
                    gate=gate,
                    decided=n,
                    first_pass=passed[gate],
                    rate=passed[gate] / n if n else None,
                )
                for gate, n in sorted(decided.items())
            ],
            approval_latency_by_approver=[
                ApproverLatency(subject=s, printed_name=self.names[s], latency=spread(v))
                for s, v in sorted(self.by_approver.items())
            ],
            approval_latency_by_role=[
                RoleLatency(role=r, latency=spread(v)) for r, v in sorted(self.by_role.items())
            ],
            killed_per_stage=dict(sorted(self.killed.items())),
        )


def analyse(events: Iterable[tuple[str, str, dict[str, Any]]], now: datetime) -> PortfolioAnalytics:
    """Figures from ``(product_id, type, data)`` in log order, as of ``now``."""
    tally = Tally()
    for product_id, kind, data in events:
        tally.add(product_id, kind, data)
    return tally.figures(now)


def _stays(
    entered: dict[str, list[tuple[str, datetime]]], now: datetime
) -> tuple[list[ProductStages], dict[str, list[float]]]:
    products: list[ProductStages] = []
    finished: dict[str, list[float]] = defaultdict(list)
    for product_id, visits in sorted(entered.items()):
        stays: list[StageStay] = []
        for index, (stage, since) in enumerate(visits):
            if stage in _TERMINAL:
                continue
            left = visits[index + 1][1] if index + 1 < len(visits) else None
            seconds = ((left or now) - since).total_seconds()
            stays.append(StageStay(stage=stage, entered_at=since, left_at=left, seconds=seconds))
            if left is not None:
                finished[stage].append(seconds)
        products.append(ProductStages(product_id=product_id, stays=stays))
    return products, finished


# The event types ``analyse`` reads fields of; each is checked against the domain's schema first.
_READ = frozenset(
    {
        "ProductRegistered",
        "StageEntered",
        "ProductKilled",
        "GateDecided",
        "GateReviewRequested",
        "SignOffGiven",
    }
)


def _check(position: int, data: dict[str, Any]) -> None:
    try:
        EVENT_ADAPTER.validate_python(data)
    except ValidationError as error:
        raise UnreadableEvent(position, str(error.errors()[0]["msg"])) from error


_EVENTS = f"""
SELECT position, stream_id, type, data::text AS data, recorded_at FROM public.events
 WHERE stream_id LIKE '{PRODUCT_STREAM_PREFIX}%' AND position > $2
   AND ($1::timestamptz IS NULL OR recorded_at <= $1)
 ORDER BY position
 LIMIT $3
"""


async def _fold_log(
    pool: asyncpg.Pool | asyncpg.Connection,
    tally: Tally,
    as_of: datetime | None,
    after: int,
    batch_size: int,
) -> tuple[int, int, datetime | None]:
    """Adds the product events after position ``after`` (recorded at or before ``as_of``) to
    ``tally``; returns (the last position added, how many, the latest ``recorded_at``)."""
    added, latest = 0, None
    while True:
        rows = await pool.fetch(_EVENTS, as_of, after, batch_size)
        for row in rows:
            stream: str = row["stream_id"]
            data = json.loads(row["data"])
            if row["type"] in _READ:
                _check(row["position"], data)
            tally.add(stream.removeprefix(PRODUCT_STREAM_PREFIX), row["type"], data)
            latest = row["recorded_at"] if latest is None else max(latest, row["recorded_at"])
        added += len(rows)
        if rows:
            after = rows[-1]["position"]
        if len(rows) < batch_size:
            return after, added, latest


async def portfolio_analytics(
    pool: asyncpg.Pool | asyncpg.Connection,
    as_of: datetime | None,
    now: datetime,
    *,
    batch_size: int = 2000,
) -> PortfolioAnalytics:
    """``analyse`` over every product event recorded at or before ``as_of`` (all of them when
    ``None``: then current stays run to ``now``, or to the latest event if that is later)."""
    tally = Tally()
    _, _, latest = await _fold_log(pool, tally, as_of, 0, batch_size)
    instant = as_of or now
    return tally.figures(instant if latest is None else max(instant, latest))


_HEAD = "SELECT position FROM public.events ORDER BY position DESC LIMIT 1"


class AnalyticsCache:
    """The current portfolio figures, kept up to date by reading only what the log gained.

    ``portfolio_analytics`` reads every product event: fine for an API call now and then, too
    much for a page that shows the figures on every load of a long-lived log. The log is
    append-only with gap-free positions assigned in commit order (``store/event_store.py``), so
    its head position names its whole content: the same head means the same events and so the
    same figures, which one index lookup on the primary key tells. When the head has moved, the
    tally kept from last time takes in just the events after the last position it folded, the
    way the product projection follows the log from its checkpoint; figures kept under a head
    always include every event up to it (the head is read before the log is).

    An event the domain cannot read raises ``UnreadableEvent``; then, as on any failed read,
    the cache forgets all it held, so the next read starts over rather than build on a
    half-folded batch.

    Only figures that do not move with the clock should be read from here (finished-stay
    spreads, first-pass rates, approval latencies, kills): current stays in ``products`` run
    to the instant of the last read.
    """

    def __init__(self, *, batch_size: int = 2000) -> None:
        self._batch_size = batch_size
        self._lock = asyncio.Lock()
        self._forget()
        self.reads = 0  # times the log was read for new events: observable, for tests
        self.events_read = 0  # product events folded in over all reads

    def _forget(self) -> None:
        self._tally = Tally()
        self._after = 0
        self._latest: datetime | None = None
        self._head: int | None = None
        self._figures: PortfolioAnalytics | None = None

    async def current(
        self, pool: asyncpg.Pool | asyncpg.Connection, now: datetime
    ) -> PortfolioAnalytics:
        """The figures over the whole log, as kept if nothing was appended since."""
        head = int(await pool.fetchval(_HEAD) or 0)
        if self._figures is not None and self._head == head:
            return self._figures
        async with self._lock:  # concurrent page loads share one read
            if self._figures is not None and self._head == head:
                return self._figures
            try:
                after, added, latest = await _fold_log(
                    pool, self._tally, None, self._after, self._batch_size
                )
            except BaseException:
                # Half a batch may be in the tally and the position it reached is not kept:
                # whatever stopped the read (an unreadable event, the database going away, the
                # page load cancelled), folding on from here would count events twice.
                self._forget()
                raise
            self.reads += 1
            self.events_read += added
            self._after = after
            if latest is not None:
                self._latest = latest if self._latest is None else max(self._latest, latest)
            instant = now if self._latest is None else max(now, self._latest)
            self._head, self._figures = head, self._tally.figures(instant)
            return self._figures
