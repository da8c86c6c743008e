"""Lifecycle throughput: products driven concurrently through every stage and gate, against the
same count of bare updates+activities, on one dev server in one run.

* ours: products sent, one after the other, every command of the default playbook's journey
  (evidence, checklist, metrics, review requests, sign-offs, decisions: the list comes from
  folding the domain once, see `bench.common.journey`) through `ProductLifecycleClient` to the
  production worker.
* bare: `BareWorkflow`s (bench/bare.py), each sent update after update, each awaiting one no-op
  activity.

Two modes, the workers in this process:

* default, the issue's scale: N = 1,000 in flight for a fixed window per system, each system
  with the process to itself, ours spread over the whole journey (bench/lifecycle_window.py);
  products/min = updates answered in the window / updates per journey. Afterwards every
  product driven must hold, in its stream and its workflow, the version its last answer
  reported.
* `--to-retirement`: N products at once from registration to retirement, timed; afterwards
  every product must have ended retired and the store hold exactly the journeys' events. At
  1,000 products this takes about 25 minutes on 2 cores, hence not the default.

Run: `python -m bench.lifecycle_throughput` (`--help` for sizes). The last line is
`lifecycle products_per_min=<> ratio_vs_bare=<ours / bare>`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import replace

import asyncpg

from bench.bare import BareClient, BareStep, bare_worker, prepare
from bench.common import (
    GcPauses,
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
from bench.lifecycle_window import Window, plan_seeds, start_seeded, store_seeds, unsettled
from bench.lifecycle_window import drive_bare as window_drive_bare
from bench.lifecycle_window import drive_ours as window_drive_ours
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


async def measure_to_retirement(stack: Stack, args: argparse.Namespace) -> list[list[object]]:
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
        async with (
            our_worker(stack, ours_queue, cache_size=args.worker_cache),
            bare_worker(stack.client, raw_pool, bare_queue, cache_size=args.worker_cache),
        ):
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
            [system, n, updates, seconds, event_count, n * updates / seconds, n / seconds * 60]
        )
    return rows


async def measure_window(stack: Stack, args: argparse.Namespace) -> list[list[object]]:
    """N in flight, spread over the journey, counted over the window (bench/lifecycle_window)."""
    commands, _ = journey()
    updates = len(commands) + 1
    n = args.products
    ours_queue = f"bench-ours-{uuid.uuid4().hex[:8]}"
    bare_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    products = ProductLifecycleClient(stack.client, ours_queue)
    bare = BareClient(stack.client, bare_queue)
    ours_window = Window(args.warmup, args.window)
    bare_window = Window(args.warmup, args.window)
    announce(f"seeding {n} products spread over the {updates}-update journey ...")
    started = time.perf_counter()
    seeds = plan_seeds(commands, n)
    await store_seeds(stack.pool, seeds)
    placed = [(seed.product_id, seed.step, len(seed.events)) for seed in seeds]
    # Stored: keep no copy alive (a million objects would lengthen every GC pause in this
    # process, which hosts the workers too).
    seeds = [replace(seed, events=[]) for seed in seeds]
    announce(f"seeded in {time.perf_counter() - started:.1f} s")
    # Each system has the process, its worker and its cache to itself while it is measured.
    await prepare(stack.dsn)
    raw_pool = await asyncpg.create_pool(stack.dsn, min_size=1, max_size=10)
    try:
        async with bare_worker(stack.client, raw_pool, bare_queue, cache_size=args.worker_cache):
            announce(
                f"bare: {n} workflows in flight, {args.warmup:.0f} s warm-up + "
                f"{args.window:.0f} s counted ..."
            )
            await window_drive_bare(bare, n, bare_window)
    finally:
        await raw_pool.close()
    async with our_worker(stack, ours_queue, cache_size=args.worker_cache):
        announce(f"ours: loading the {sum(s.step > 0 for s in seeds)} seeded products ...")
        started = time.perf_counter()
        await start_seeded(stack.client, products, seeds)
        del seeds
        announce(
            f"loaded in {time.perf_counter() - started:.1f} s; ours: {n} products in flight, "
            f"{args.warmup:.0f} s warm-up + {args.window:.0f} s counted ..."
        )
        answered = await window_drive_ours(products, placed, commands, ours_window)
        left = await unsettled(products, stack.pool, answered)
        if left:
            raise RuntimeError(
                f"{len(left)} of {len(answered)} products hold another version than their "
                f"last answer reported, e.g. {left[0]}"
            )
        announce(
            f"checked: all {len(answered)} products driven hold, in their stream and their "
            "workflow, the version their last answer reported"
        )
    rows: list[list[object]] = []
    for system, window in (("ours", ours_window), ("bare", bare_window)):
        counted = window.counted()
        rows.append(
            [
                system,
                n,
                updates,
                args.window,
                counted,
                counted / args.window,
                window.busy_retries,
                counted / updates / args.window * 60,
            ]
        )
    return rows


def summary(rows: list[list[object]]) -> str:
    ours, bare = (float(str(row[-1])) for row in rows)
    return f"lifecycle products_per_min={ours:.1f} ratio_vs_bare={ours / bare:.2f}"


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    with GcPauses() as gc:
        async with running_stack(temporal_file=args.temporal_db_file) as stack:
            if args.to_retirement:
                rows = await measure_to_retirement(stack, args)
                headers = ["system", "products", "updates each", "seconds", "events", "updates/s"]
            else:
                rows = await measure_window(stack, args)
                headers = [
                    "system",
                    "in flight",
                    "updates each",
                    "window s",
                    "updates",
                    "updates/s",
                    "busy retries",
                ]
    announce(table([*headers, "products/min"], rows))
    announce(f"load average after: {load_now()}")
    announce(gc.report())
    announce(summary(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--products",
        type=int,
        help="products (and bare workflows) at once (default 1000; 40 with --to-retirement)",
    )
    parser.add_argument(
        "--window", type=float, default=60.0, help="seconds counted per system (default 60)"
    )
    parser.add_argument(
        "--warmup", type=float, default=30.0, help="seconds driven before the window opens"
    )
    parser.add_argument(
        "--to-retirement",
        action="store_true",
        help="drive every product from registration to retirement instead (and time that); "
        "1,000 products take about 25 minutes on 2 cores, see docs/performance.md",
    )
    parser.add_argument(
        "--worker-cache",
        type=int,
        help="workflows each system's worker keeps in memory (default: the products in flight "
        "and 500 more, as a deployment expecting them sets LIFECYCLE_WORKER_CACHE_SIZE)",
    )
    add_server_options(parser)
    args = parser.parse_args()
    if args.products is None:
        args.products = 40 if args.to_retirement else 1000
    if args.worker_cache is None:
        args.worker_cache = args.products + 500
    if args.worker_cache < 1:
        parser.error("--worker-cache must be at least 1")
    if args.products < 1:
        parser.error("--products must be at least 1")
    if args.window <= 0 or args.warmup < 0:
        parser.error("--window must be positive and --warmup not negative")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
