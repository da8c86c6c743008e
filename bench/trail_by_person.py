"""The decision trail by person: how long a page of one person's events takes, portfolio-wide.

An auditor asks for everything one approver signed, across every product. The trail filters
on the acting subject or the principal a delegate signed for (``store/trail.py``); migration
0008 indexes both expressions. This bench fills a log with real product journeys (as the audit
bench does), each product's events acted by one of ``--people`` people, then times the first
page (50 entries) of the trail of:

* a busy person: one who acted on every ``--people``-th product, as every person here did;
* the same person's sign-offs only (the filter an auditor would add);
* nobody: a subject no event names, the worst case for a walk through the log.

Each figure is the best of ``--repeats`` runs. Not part of ``make bench``: run
`python -m bench.trail_by_person`. For the log before migration 0008, run this file in a checkout
of 2f1d99f (docs/performance.md shows how). The last line is `trail events=<> busy_page_ms=<>
signoffs_page_ms=<> nobody_page_ms=<> fill_events_per_s=<>` (on one line).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from bench.audit_and_projections import Journeys, settle
from bench.common import announce, load_now, machine, running_postgres_at, table
from store.event_store import EventStore
from store.trail import TrailFilter, read_trail


async def fill(store: EventStore, target: int, people: int) -> tuple[int, float]:
    """Whole journeys until at least ``target`` events; product n is acted by person n mod
    ``people``. Returns (events, seconds)."""
    journeys = Journeys()
    products = -(-target // journeys.events_each)
    started = time.perf_counter()
    for n in range(products):
        product_id, events = journeys.next_product()
        person = f"person-{n % people:05d}"
        acted = [
            event.model_copy(
                update={"data": {**event.data, "actor": {**event.data["actor"], "subject": person}}}
            )
            if isinstance(event.data.get("actor"), dict)
            else event
            for event in events
        ]
        await store.append(f"product-{product_id}", 0, acted)
    return products * journeys.events_each, time.perf_counter() - started


async def best_page_ms(pool: asyncpg.Pool, flt: TrailFilter, repeats: int) -> tuple[float, int]:
    """The fastest of ``repeats`` first pages, in milliseconds, and the entries on it."""
    times, entries = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        page = await read_trail(pool, flt, limit=50)
        times.append((time.perf_counter() - started) * 1000)
        entries = len(page.events)
    return min(times), entries


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    async with running_postgres_at() as (owner_dsn, pool):
        announce(f"filling the log with about {args.events:,} events by {args.people:,} people ...")
        total, fill_seconds = await fill(EventStore(pool), args.events, args.people)
        await settle(owner_dsn)
        busy = "person-00007"
        cases = [
            ("busy person", TrailFilter(actor=busy)),
            ("busy person's sign-offs", TrailFilter(actor=busy, types=("SignOffGiven",))),
            ("nobody", TrailFilter(actor="person-nobody")),
        ]
        rows: list[list[object]] = []
        figures: list[float] = []
        for name, flt in cases:
            ms, entries = await best_page_ms(pool, flt, args.repeats)
            rows.append([name, entries, ms])
            figures.append(ms)
    announce(f"{total:,} events, filled at {total / fill_seconds:,.0f}/s")
    announce(table(["first page of", "entries", "best ms"], rows))
    announce(f"load average after: {load_now()}")
    announce(
        f"trail events={total} busy_page_ms={figures[0]:.2f} signoffs_page_ms={figures[1]:.2f} "
        f"nobody_page_ms={figures[2]:.2f} fill_events_per_s={total / fill_seconds:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000, help="events in the log")
    parser.add_argument("--people", type=int, default=2_000, help="people acting on products")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each page; best kept")
    args = parser.parse_args()
    if min(args.events, args.people, args.repeats) < 1:
        parser.error("--events, --people and --repeats must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
