"""Append throughput and latency of our event store against two references, on one Postgres.

* ours: ``EventStore.append`` over an app-role pool (idempotency check, version check, hash
  chain, gap-free commit-ordered position, one round trip).
* eventsourcing: the ``eventsourcing`` library's ``PostgresApplicationRecorder`` on its default
  path (psycopg pipeline: table lock, NOTIFY, insert, commit), fed ready-made ``StoredEvent``s so
  none of its domain-model machinery is counted against it.
* raw asyncpg: a plain INSERT into an unconstrained table with a bigserial id; the floor of what
  any durable append costs here (no ordering guarantee, no checks).

Each system gets its own database on the same server and the same event payloads; single
appends are one event per call, batches are 100 events per call, all sequential from one client
so the latencies are those of one writer. The work is split into rounds that alternate between
systems, so drift in the machine's speed hits all of them alike.

Run: ``python -m bench.event_store`` (``--help`` for counts). The last line is machine-readable;
with ``--repeat N`` the system runs N times on one server (fresh databases each time) and the last
line gives the median of the N runs. The line before it says how a bare INSERT compares with the
eventsourcing library: no store that checks anything can beat that ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from store.dsn import with_database
from store.event_store import EventStore
from store.events import NewEvent
from store.migrations import create_app_pool, migrate

BATCH = 100


@dataclass
class Series:
    """Per-call latencies (seconds) and events appended, accumulated over rounds."""

    latencies: list[float] = field(default_factory=list)
    events: int = 0
    elapsed: float = 0.0

    def events_per_s(self) -> float:
        return self.events / self.elapsed if self.elapsed else 0.0

    def quantile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
        return ordered[index] * 1000


async def _timed(series: Series, calls: list[Callable[[], Awaitable[Any]]], size: int) -> None:
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        await call()
        series.latencies.append(time.perf_counter() - t0)
    series.elapsed += time.perf_counter() - started
    series.events += len(calls) * size


def _timed_sync(series: Series, calls: list[Callable[[], Any]], size: int) -> None:
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        call()
        series.latencies.append(time.perf_counter() - t0)
    series.elapsed += time.perf_counter() - started
    series.events += len(calls) * size


def _payload(i: int) -> dict[str, Any]:
    return {
        "product_id": f"product-{i % 97}",
        "gate": "launch",
        "decision": "approve",
        "reason": "evidence reviewed, KPIs above threshold",
        "scores": [1, 2, 3, 5, 8],
        "n": i,
    }


_METADATA = {"actor": "alice@example.com", "role": "gatekeeper", "correlation_id": "c-1"}
_T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _new_event(i: int) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="SignOffGiven",
        schema_version=1,
        data=_payload(i),
        metadata=_METADATA,
        recorded_at=_T0 + timedelta(microseconds=i),
    )


class Ours:
    name = "ours"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.streams: dict[str, int] = {}
        self.counter = 0

    async def open(self) -> None:
        await migrate(self.dsn)
        self.pool = await create_app_pool(self.dsn, min_size=1, max_size=2)
        self.store = EventStore(self.pool)

    def calls(self, count: int, size: int) -> list[Callable[[], Awaitable[Any]]]:
        made = []
        for _ in range(count):
            stream = f"product-{self.counter % 50}" if size == 1 else f"batch-{self.counter}"
            version = self.streams.get(stream, 0)
            self.streams[stream] = version + size
            events = [_new_event(self.counter + k) for k in range(size)]
            self.counter += size
            made.append(self._append(stream, version, events))
        return made

    def _append(self, stream: str, version: int, events: list[NewEvent]) -> Callable[[], Any]:
        return lambda: self.store.append(stream, version, events)

    async def close(self) -> None:
        await self.pool.close()


class RawAsyncpg:
    name = "raw asyncpg"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.counter = 0

    async def open(self) -> None:
        self.conn = await asyncpg.connect(self.dsn)
        await self.conn.execute(
            "CREATE TABLE raw_events (id bigserial PRIMARY KEY, stream_id text NOT NULL,"
            " stream_version integer NOT NULL, event_id uuid NOT NULL, type text NOT NULL,"
            " data json NOT NULL, metadata json NOT NULL, recorded_at timestamptz NOT NULL)"
        )

    def calls(self, count: int, size: int) -> list[Callable[[], Awaitable[Any]]]:
        made = []
        for _ in range(count):
            rows = [
                (
                    f"s{self.counter}",
                    k + 1,
                    uuid.uuid4(),
                    "SignOffGiven",
                    json.dumps(_payload(self.counter + k)),
                    json.dumps(_METADATA),
                    _T0,
                )
                for k in range(size)
            ]
            self.counter += size
            made.append(self._insert(rows))
        return made

    def _insert(self, rows: list[tuple[Any, ...]]) -> Callable[[], Any]:
        if len(rows) == 1:
            sql = (
                "INSERT INTO raw_events (stream_id, stream_version, event_id, type, data,"
                " metadata, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            return lambda: self.conn.execute(sql, *rows[0])
        columns = [list(column) for column in zip(*rows, strict=True)]
        sql = (
            "INSERT INTO raw_events (stream_id, stream_version, event_id, type, data,"
            " metadata, recorded_at) SELECT s, v, e, t, d::json, m::json, r FROM"
            " unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[],"
            " $7::timestamptz[]) AS u(s, v, e, t, d, m, r)"
        )
        return lambda: self.conn.execute(sql, *columns)

    async def close(self) -> None:
        await self.conn.close()


class EventSourcing:
    """eventsourcing 9.5.6's Postgres application recorder, used as its own docs set it up."""

    name = "eventsourcing"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.counter = 0
        self.originators = [uuid.uuid4() for _ in range(50)]
        self.versions: dict[uuid.UUID, int] = {}

    def open(self) -> None:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

        parts = urlsplit(self.dsn)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "localhost"])[0]
        self.datastore = PostgresDatastore(
            dbname=parts.path.lstrip("/"),
            host=host,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or "",
        )
        self.recorder = PostgresApplicationRecorder(self.datastore)
        self.recorder.create_table()

    def calls(self, count: int, size: int) -> list[Callable[[], Any]]:
        from eventsourcing.persistence import StoredEvent

        made = []
        for _ in range(count):
            if size == 1:
                originator = self.originators[self.counter % len(self.originators)]
            else:
                originator = uuid.uuid4()
            version = self.versions.get(originator, 0)
            self.versions[originator] = version + size
            events = [
                StoredEvent(
                    originator_id=originator,
                    originator_version=version + k + 1,
                    topic="lifecycle.domain:SignOffGiven",
                    state=json.dumps(
                        {"data": _payload(self.counter + k), "metadata": _METADATA}
                    ).encode(),
                )
                for k in range(size)
            ]
            self.counter += size
            made.append(self._insert(events))
        return made

    def _insert(self, events: list[Any]) -> Callable[[], Any]:
        return lambda: self.recorder.insert_events(events)

    def close(self) -> None:
        self.datastore.close()


async def _create_databases(admin_dsn: str, names: list[str]) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_databases(admin_dsn: str, names: list[str]) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run(admin_dsn: str, args: argparse.Namespace) -> dict[str, dict[str, Series]]:
    suffix = uuid.uuid4().hex[:8]
    names = {key: f"bench_{key}_{suffix}" for key in ("ours", "es", "raw")}
    await _create_databases(admin_dsn, list(names.values()))
    ours = Ours(with_database(admin_dsn, names["ours"]))
    es = EventSourcing(with_database(admin_dsn, names["es"]))
    raw = RawAsyncpg(with_database(admin_dsn, names["raw"]))
    results: dict[str, dict[str, Series]] = {
        system: {"single": Series(), "batch100": Series()}
        for system in (ours.name, es.name, raw.name)
    }
    try:
        await ours.open()
        es.open()
        await raw.open()
        # Warm up: connections, prepared statements, plan caches, first index pages.
        for size in (1, BATCH):
            await _timed(Series(), ours.calls(args.warmup, size), size)
            _timed_sync(Series(), es.calls(args.warmup, size), size)
            await _timed(Series(), raw.calls(args.warmup, size), size)
        for _ in range(args.rounds):
            for kind, size, count in (
                ("single", 1, args.single // args.rounds),
                ("batch100", BATCH, args.batches // args.rounds),
            ):
                ours_calls = ours.calls(count, size)
                es_calls = es.calls(count, size)
                raw_calls = raw.calls(count, size)
                # The prepared inputs are long-lived; keep the collector from rescanning them
                # inside the timed loops, where it would bill one system for all of them.
                gc.collect()
                gc.freeze()
                await _timed(results[ours.name][kind], ours_calls, size)
                _timed_sync(results[es.name][kind], es_calls, size)
                await _timed(results[raw.name][kind], raw_calls, size)
                gc.unfreeze()
    finally:
        await ours.close()
        es.close()
        await raw.close()
        await _drop_databases(admin_dsn, list(names.values()))
    return results


def figures(results: dict[str, dict[str, Series]]) -> tuple[float, float, float]:
    """(our single-append ratio vs eventsourcing, our batch events/s, raw INSERT's ratio)."""
    es_single = results["eventsourcing"]["single"].events_per_s()
    return (
        results["ours"]["single"].events_per_s() / es_single,
        results["ours"]["batch100"].events_per_s(),
        results["raw asyncpg"]["single"].events_per_s() / es_single,
    )


def summary(ratio: float, batch: float) -> str:
    return (
        f"event_store single_append_ratio_vs_eventsourcing={ratio:.2f} "
        f"batch100_events_per_s={batch:.0f}"
    )


def report(results: dict[str, dict[str, Series]]) -> str:
    head = f"{'':14}|{'single append':^33}|{'batch of 100':^33}"
    sub = f"{'system':14}|" + f"{'events/s':>11}{'p50 ms':>11}{'p99 ms':>11}|" * 2
    lines = [head, sub.rstrip("|"), "-" * len(head)]
    for system, kinds in results.items():
        cells = []
        for kind in ("single", "batch100"):
            series = kinds[kind]
            cells.append(
                f"{series.events_per_s():>11,.0f}{series.quantile_ms(0.5):>11.3f}"
                f"{series.quantile_ms(0.99):>11.3f}"
            )
        lines.append(f"{system:14}|" + "|".join(cells))
    ratio, batch, floor = figures(results)
    lines.append(f"floor: raw_insert_single_ratio_vs_eventsourcing={floor:.2f}")
    lines.append(summary(ratio, batch))
    return "\n".join(lines)


async def run_many(admin_dsn: str, args: argparse.Namespace) -> None:
    runs = []
    for n in range(args.repeat):
        results = await run(admin_dsn, args)
        if args.repeat > 1:
            print(f"run {n + 1} of {args.repeat}")
        print(report(results), flush=True)
        runs.append(figures(results))
    if args.repeat > 1:
        ratio, batch, floor = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"median of {args.repeat} runs:")
        print(f"floor: raw_insert_single_ratio_vs_eventsourcing={floor:.2f}")
        print(summary(ratio, batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=3000, help="single-event appends")
    parser.add_argument("--batches", type=int, default=300, help="100-event appends")
    parser.add_argument("--rounds", type=int, default=3, help="alternations between systems")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per system")
    parser.add_argument("--repeat", type=int, default=1, help="whole runs; last line = median")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("LIFECYCLE_BENCH_DATABASE_URL"),
        help="superuser DSN of an existing server (default: start an embedded one)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.dsn:
        asyncio.run(run_many(args.dsn, args))
    else:
        from runtime.embedded_postgres import start_embedded_postgres

        with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as tmp:
            server = start_embedded_postgres(Path(tmp) / "pgdata")
            try:
                asyncio.run(run_many(server.dsn, args))
            finally:
                server.stop()


if __name__ == "__main__":
    main()
