"""Scale in flight: many products open at once on one worker, against 10.

The worker is the production one, `python -m worker`, in its own process (so its memory is
its own). The run has two phases on one dev server and one Postgres:

1. 10 products open, each waiting at its first review: sign-offs go round them (each revoked
   again, untimed, so the next is again a first approval). All 10 stay in the worker's cache.
2. More products at their first review (the ones signed in this phase), then fillers
   registered until N products are open. The signed products were opened *before* the
   fillers, so if N exceeds the worker's workflow cache each first sign-off meets an evicted
   workflow and the worker replays its history first, as a sign-off on any one of N open
   products would. A second round on the same products shows the warm figure.

The worker's cache (`LIFECYCLE_WORKER_CACHE_SIZE`) is sized to the open products, as a
deployment expecting N products in flight per worker sets it (about 0.3 MB each);
`--worker-cache 0` keeps the setting's default of 1,000 to show what eviction costs.

Sign-offs go through `ProductLifecycleClient` (Update, validator, decision, durable append,
answer); the API adds the same constant cost at any scale and is measured by
`bench.signoff_latency`.

Run: `python -m bench.inflight` (`--help` for sizes). The last line is
`inflight products=<N> worker_rss_mb=<> p50_ratio_vs_10=<p50 at N / p50 at 10>`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import psutil

from bench.common import (
    add_server_options,
    announce,
    journey,
    load_now,
    machine,
    percentile,
    registration,
    running_stack,
    table,
    worker_process,
)
from domain.commands import GiveSignOff, RevokeSignOff, Verdict
from domain.identity import Actor
from workflows.product_client import ProductLifecycleClient

APPROVER = Actor(subject="bench-approver", display_name="Bench Approver", roles=("product-lead",))
SIGN = GiveSignOff(actor=APPROVER, role="product-lead", verdict=Verdict.APPROVE, reason="bench")
REVOKE = RevokeSignOff(actor=APPROVER, reason="bench cycle")
FIRST = 10


async def open_at_review(products: ProductLifecycleClient, count: int, at_once: int) -> list[str]:
    commands, _ = journey(until_review=True)
    ids = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    gate = asyncio.Semaphore(at_once)

    async def drive(product_id: str) -> None:
        async with gate:
            await products.register(registration(product_id))
            for command in commands:
                await products.execute(product_id, command)

    await asyncio.gather(*(drive(product_id) for product_id in ids))
    return ids


async def register_fillers(products: ProductLifecycleClient, count: int, at_once: int) -> float:
    gate = asyncio.Semaphore(at_once)
    done = 0
    started = time.perf_counter()

    async def one() -> None:
        nonlocal done
        async with gate:
            await products.register(registration(f"fill-{uuid.uuid4().hex[:12]}"))
        done += 1
        if done % 1000 == 0:
            announce(f"  {done:,} of {count:,} registered ({time.perf_counter() - started:.0f}s)")

    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


async def sign_offs(products: ProductLifecycleClient, ids: list[str], count: int) -> list[float]:
    """`count` sign-offs round `ids`, one at a time; each revoked again, untimed."""
    latencies = []
    for n in range(count):
        product_id = ids[n % len(ids)]
        started = time.perf_counter()
        await products.execute(product_id, SIGN)
        latencies.append(time.perf_counter() - started)
        await products.execute(product_id, REVOKE)
    return latencies


def rss_mb(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / 1024 / 1024


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    queue = f"bench-ours-{uuid.uuid4().hex[:8]}"
    rows: list[list[object]] = []
    async with running_stack(temporal_file=args.temporal_db_file) as stack:
        products = ProductLifecycleClient(stack.client, queue)
        cache = {"LIFECYCLE_WORKER_CACHE_SIZE": str(args.worker_cache)} if args.worker_cache else {}
        announce(f"worker cache: {args.worker_cache or 'the default'} workflows")
        with worker_process(stack, queue, cache) as worker:
            watched = psutil.Process(worker.pid)
            announce(f"phase 1: {FIRST} products at their first review ...")
            first = await open_at_review(products, FIRST, args.at_once)
            await sign_offs(products, first, args.warmup)
            at_10 = await sign_offs(products, first, args.samples)
            rows.append(["10 open", FIRST, len(at_10), *_ms(at_10), rss_mb(watched)])
            cold_count = max(0, args.samples - FIRST)
            announce(f"phase 2: {cold_count} more at review, then fillers up to {args.products:,}")
            signed = first + await open_at_review(products, cold_count, args.at_once)
            fillers = args.products - len(signed)
            seconds = await register_fillers(products, max(0, fillers), args.at_once)
            announce(f"  registered {max(0, fillers):,} fillers in {seconds:.0f}s")
            open_now = max(args.products, len(signed))
            cold = await sign_offs(products, signed, len(signed))
            rss_cold = rss_mb(watched)
            rows.append(
                [f"{open_now:,} open, first touch", open_now, len(cold), *_ms(cold), rss_cold]
            )
            warm = await sign_offs(products, signed, len(signed))
            rows.append(
                [f"{open_now:,} open, again", open_now, len(warm), *_ms(warm), rss_mb(watched)]
            )
    announce(
        table(["phase", "open", "sign-offs", "p50 ms", "p90 ms", "p99 ms", "worker RSS MB"], rows)
    )
    announce(f"load average after: {load_now()}")
    ratio = percentile(cold, 0.5) / percentile(at_10, 0.5)
    announce(
        f"inflight products={open_now} worker_rss_mb={rss_cold:.0f} p50_ratio_vs_10={ratio:.2f}"
    )


def _ms(latencies: list[float]) -> list[float]:
    ms = [v * 1000 for v in latencies]
    return [percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--products",
        type=int,
        default=10_000,
        help="products open at once in phase 2 (the issue's size; about 8.5 minutes here)",
    )
    parser.add_argument(
        "--worker-cache",
        type=int,
        default=None,
        help="LIFECYCLE_WORKER_CACHE_SIZE for the worker: the products it keeps in memory "
        "(default: the open products and 500 more, as a deployment expecting them would set; "
        "0: the setting's own default, 1,000)",
    )
    parser.add_argument(
        "--samples", type=int, default=50, help="sign-offs timed in each phase (at least 10)"
    )
    parser.add_argument("--warmup", type=int, default=10, help="untimed sign-offs first")
    parser.add_argument("--at-once", type=int, default=50, help="registrations in flight")
    add_server_options(parser)
    args = parser.parse_args()
    if args.samples < FIRST or args.products < FIRST or args.at_once < 1:
        parser.error(f"--samples and --products must be at least {FIRST}, --at-once at least 1")
    if args.worker_cache is None:
        args.worker_cache = args.products + 500
    if args.worker_cache < 0:
        parser.error("--worker-cache must not be negative")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
