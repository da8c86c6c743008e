"""Audit and projections: verify the hash chain over a large log, and rebuild the product read
model from it, on one embedded Postgres.

The log is filled with real product journeys: the default playbook's events from registration
to retirement (folded in the domain once, see `bench.common.journey`), cloned per product with
its own product id and event ids, appended one product per call through `EventStore.append`
(so the chain and the content digests are the store's own). Then, each timed:

* read: every event read in position order with the verifier's query, decoded by asyncpg and
  nothing else, on one connection; what reading alone costs.
* verify: `store.audit.verify_chain` over the whole log (both hash levels of every event; its
  reading overlaps its hashing on two connections in one snapshot), in one process, then
  shared out to `--workers` processes (`lifecycle audit verify --workers N`, one per core by
  default), which gives the last line's figure.
* rebuild: `ProductProjection.rebuild()`, what `lifecycle projections rebuild` runs: forget
  the read model, replay the log from position 0, fold every product event; in one process,
  then in `--workers` processes (one per core by default, `--workers N` of the command), which
  gives the last line's figure.

Filling is not timed as a result (the event-store bench measures appends) but is printed; so
is the VACUUM run after it, which a log written long ago has long had.

Run: `python -m bench.audit_and_projections` (`--help` for sizes). The last line is
`audit verify_events_per_s=<> rebuild_events_per_s=<>`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from bench.common import (
    announce,
    journey,
    load_now,
    machine,
    running_postgres_at,
    table,
)
from domain.events import Event
from store.audit import verify_chain
from store.chain_scan import PAGE_QUERY, last_position
from store.dsn import with_user
from store.event_store import EventStore
from store.events import NewEvent
from store.migrations import APP_ROLE
from store.projections import ProductProjection


class Journeys:
    """One journey's events as plain dicts, re-stamped per product with fresh ids and times."""

    def __init__(self) -> None:
        _, events = journey("bench-template")
        self._template: list[tuple[Event, dict[str, Any]]] = [
            (event, event.model_dump(mode="json")) for event in events
        ]
        self.events_each = len(events)
        self._serial = 0

    def next_product(self) -> tuple[str, list[NewEvent]]:
        self._serial += 1
        product_id = f"bench-{self._serial:07d}"
        made = []
        for k, (event, body) in enumerate(self._template):
            event_id = uuid.UUID(int=(self._serial << 32) | k)
            data = {**body, "product_id": product_id, "event_id": str(event_id)}
            made.append(
                NewEvent(
                    event_id=event_id,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=data,
                    metadata={
                        "workflow_id": f"product-{product_id}",
                        "command": event.type,
                        "actor": body["actor"],
                    },
                    recorded_at=event.occurred_at + timedelta(microseconds=self._serial),
                )
            )
        return product_id, made


async def fill(store: EventStore, target: int, writers: int) -> tuple[int, float]:
    """Appends whole journeys until at least `target` events are stored; (events, seconds)."""
    journeys = Journeys()
    products = -(-target // journeys.events_each)
    queue: asyncio.Queue[tuple[str, list[NewEvent]] | None] = asyncio.Queue(maxsize=writers * 4)
    started = time.perf_counter()

    async def produce() -> None:
        for n in range(products):
            await queue.put(journeys.next_product())
            if (n + 1) % 2500 == 0:
                elapsed = time.perf_counter() - started
                announce(f"  {(n + 1) * journeys.events_each:,} events appended ({elapsed:.0f}s)")
        for _ in range(writers):
            await queue.put(None)

    async def write() -> None:
        while (item := await queue.get()) is not None:
            product_id, events = item
            await store.append(f"product-{product_id}", 0, events)

    await asyncio.gather(produce(), *(write() for _ in range(writers)))
    return products * journeys.events_each, time.perf_counter() - started


async def settle(owner_dsn: str) -> None:
    """VACUUM the freshly filled log, as autovacuum would soon after: otherwise the timed steps
    race the autovacuum of a table just written and measure that instead. A log being audited
    was written long ago and has been vacuumed many times."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        await conn.execute("VACUUM (ANALYZE) public.events")
    finally:
        await conn.close()


async def read_all(pool: asyncpg.Pool, batch: int) -> int:
    """Every row in position order, the columns verify reads, in pages of `batch` on one
    connection inside one snapshot: reading alone, without the hashing or the overlap."""
    count = 0
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        last = await last_position(conn)
        for after in range(0, last, batch):
            count += len(await conn.fetch(PAGE_QUERY, after, after + batch))
    return count


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    rows: list[list[object]] = []
    async with running_postgres_at(pool_size=max(4, args.workers + 2)) as (owner_dsn, pool):
        dsn = with_user(owner_dsn, APP_ROLE)
        store = EventStore(pool)
        announce(f"filling the log with about {args.events:,} events ...")
        total, fill_seconds = await fill(store, args.events, args.writers)
        rows.append(["fill (append, untimed goal)", total, fill_seconds, total / fill_seconds])
        started = time.perf_counter()
        await settle(owner_dsn)
        rows.append(["vacuum (untimed)", total, time.perf_counter() - started, ""])
        started = time.perf_counter()
        read = await read_all(pool, args.batch)
        read_seconds = time.perf_counter() - started
        rows.append(["read (floor)", read, read_seconds, read / read_seconds])
        verify_seconds = 0.0
        for workers in sorted({1, args.workers}):
            announce(f"verifying the chain in {workers} process(es) ...")
            started, cpu_started = time.perf_counter(), time.process_time()
            verification = await verify_chain(
                pool, batch_size=args.batch, processes=workers, database_url=dsn
            )
            verify_seconds = time.perf_counter() - started
            announce(
                f"  {verify_seconds:.2f} s, of which {time.process_time() - cpu_started:.2f} s "
                "this process's CPU"
            )
            if not verification.ok or verification.events_checked != total:
                raise RuntimeError(f"verification failed: {verification.problem}")
            rows.append(
                [f"verify, {workers} process(es)", total, verify_seconds, total / verify_seconds]
            )
        projection = ProductProjection(pool, store)
        rebuild_seconds = 0.0
        for workers in sorted({1, args.workers}):
            announce(f"rebuilding the product projection in {workers} process(es) ...")
            started = time.perf_counter()
            applied = await projection.rebuild(workers=workers, database_url=dsn)
            rebuild_seconds = time.perf_counter() - started
            if applied != total:
                raise RuntimeError(f"rebuild folded {applied} events, expected {total}")
            rows.append(
                [
                    f"rebuild, {workers} process(es)",
                    applied,
                    rebuild_seconds,
                    total / rebuild_seconds,
                ]
            )
    announce(table(["step", "events", "seconds", "events/s"], rows))
    announce(f"load average after: {load_now()}")
    announce(
        f"audit verify_events_per_s={total / verify_seconds:.0f} "
        f"rebuild_events_per_s={total / rebuild_seconds:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        default=1_000_000,
        help="events in the log, whole journeys (the issue's size; about 1.5 minutes here)",
    )
    parser.add_argument("--batch", type=int, default=10_000, help="rows per page when reading")
    parser.add_argument("--writers", type=int, default=2, help="concurrent appenders when filling")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes of the parallel verify and rebuild (the last line's figures); one "
        "process is always measured too",
    )
    args = parser.parse_args()
    if min(args.events, args.batch, args.writers, args.workers) < 1:
        parser.error("--events, --batch, --writers and --workers must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
