"""Lifecycle throughput: products driven concurrently through every stage and gate, against the
same count of bare updates+activities, on one dev server in one run.

* ours: N products at once, each registered (update-with-start) and then sent, one after the
  other, every command of the default playbook's journey to retirement (evidence, checklist,
  metrics, review requests, sign-offs, decisions: the list comes from folding the domain once,
  see `bench.common.journey`) through `ProductLifecycleClient` to the production worker.
* bare: N `BareWorkflow`s at once (bench/bare.py), each sent the same number of updates, each
  awaiting one no-op activity; the last one completes the workflow.

Both workers run in this process. After the run the event store is checked to hold exactly the
events the journeys produce and every product workflow to have ended retired.

Run: `python -m bench.lifecycle_throughput` (`--help` for sizes). The last line is
`lifecycle products_per_min=<> ratio_vs_bare=<ours / bare>`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg

from bench.bare import BareClient, BareStep, bare_worker, prepare
from bench.common import (
    Stack,
    add_server_options,
    announce,
    journey,
    load_now,
    machine,
    our_worker,
    registration,
    running_stack,
    table,
)
from domain.commands import Command
from workflows.product_client import ProductLifecycleClient


async def drive_ours(
    products: ProductLifecycleClient, ids: list[str], commands: list[Command]
) -> float:
    async def one(product_id: str) -> None:
        await products.register(registration(product_id))
        for command in commands:
            await products.execute(product_id, command)

    started = time.perf_counter()
    await asyncio.gather(*(one(product_id) for product_id in ids))
    return time.perf_counter() - started


async def drive_bare(bare: BareClient, ids: list[str], updates: int) -> float:
    async def one(workflow_id: str) -> None:
        await bare.start(workflow_id, BareStep("register"))
        for n in range(updates):
            await bare.step(workflow_id, BareStep(f"command {n}", last=n == updates - 1))

    started = time.perf_counter()
    await asyncio.gather(*(one(workflow_id) for workflow_id in ids))
    return time.perf_counter() - started


async def check_ours(stack: Stack, products: ProductLifecycleClient, ids: list[str]) -> int:
    """Every journey ended retired, and the store holds each of its events once."""
    outcomes = await asyncio.gather(*(products.outcome(product_id) for product_id in ids))
    unfinished = [o.product_id for o in outcomes if o.status != "retired"]
    if unfinished:
        raise RuntimeError(f"{len(unfinished)} products did not retire, e.g. {unfinished[0]}")
    conn = await asyncpg.connect(stack.dsn)
    try:
        stored: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = ANY($1::text[])",
            [f"product-{product_id}" for product_id in ids],
        )
    finally:
        await conn.close()
    return stored


async def measure(stack: Stack, args: argparse.Namespace) -> list[list[object]]:
    commands, events = journey()
    updates = len(commands) + 1  # registration is an update too
    await prepare(stack.dsn)
    raw_pool = await asyncpg.create_pool(stack.dsn, min_size=1, max_size=10)
    ours_queue = f"bench-ours-{uuid.uuid4().hex[:8]}"
    bare_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    products = ProductLifecycleClient(stack.client, ours_queue)
    bare = BareClient(stack.client, bare_queue)
    rows: list[list[object]] = []
    try:
        async with our_worker(stack, ours_queue), bare_worker(stack.client, raw_pool, bare_queue):
            announce("warming up both workers (2 journeys each, untimed) ...")
            await drive_ours(products, [f"warm-{uuid.uuid4().hex[:8]}" for _ in range(2)], commands)
            await drive_bare(bare, [f"warm-{uuid.uuid4().hex[:8]}" for _ in range(2)], updates - 1)
            n = args.products
            announce(f"bare: {n} workflows x {updates} updates, all at once ...")
            bare_ids = [f"bare-{uuid.uuid4().hex[:10]}" for _ in range(n)]
            bare_seconds = await drive_bare(bare, bare_ids, updates - 1)
            announce(f"ours: {n} products x {updates} commands to retirement, all at once ...")
            ours_ids = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(n)]
            ours_seconds = await drive_ours(products, ours_ids, commands)
            stored = await check_ours(stack, products, ours_ids)
            if stored != n * len(events):
                raise RuntimeError(f"the store holds {stored} events, expected {n * len(events)}")
    finally:
        await raw_pool.close()
    for system, seconds, event_count in (
        ("ours", ours_seconds, stored),
        ("bare", bare_seconds, 0),
    ):
        rows.append(
            [
                system,
                n,
                updates,
                seconds,
                n / seconds * 60,
                n * updates / seconds,
                event_count,
            ]
        )
    return rows


def summary(rows: list[list[object]]) -> str:
    ours, bare = (float(str(row[4])) for row in rows)
    return f"lifecycle products_per_min={ours:.1f} ratio_vs_bare={ours / bare:.2f}"


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    async with running_stack(temporal_file=args.temporal_db_file) as stack:
        rows = await measure(stack, args)
    announce(
        table(
            [
                "system",
                "products",
                "updates each",
                "seconds",
                "products/min",
                "updates/s",
                "events",
            ],
            rows,
        )
    )
    announce(f"load average after: {load_now()}")
    announce(summary(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--products",
        type=int,
        default=40,
        help="products (and bare workflows) at once; the issue names 1000, see docs/performance.md",
    )
    add_server_options(parser)
    args = parser.parse_args()
    if args.products < 1:
        parser.error("--products must be at least 1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
