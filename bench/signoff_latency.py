"""Sign-off latency end to end through the API, against a bare Temporal update, in one run.

* ours, visible: `POST /products/{id}/gate/signoffs` over HTTP to the API (uvicorn, real
  socket) -> Update on the product's workflow (validator dry-runs the domain, handler decides,
  appends through the activity into the hash-chained store) -> answer, then the product
  projection caught up (what every board read does) until it shows the new version.
* ours, answered: the same requests, timed until the HTTP answer (events durable).
* ours, client: the same sign-off sent with `ProductLifecycleClient` (no HTTP, no projection).
* bare: `BareWorkflow` (bench/bare.py), an Update whose handler awaits one no-op activity,
  on its own task queue on the same dev server.
* bare + INSERT: the same, with the activity doing one plain INSERT into Postgres.

Every worker and the API run in this process on one event loop, as in `lifecycle dev`.
Samples alternate between the systems so the machine's drift hits all of them alike. Each
sign-off is revoked (untimed) so the next one on that product is again a first approval.

Run: `python -m bench.signoff_latency` (`--help` for sizes). The last line is
`signoff p50_ms=<> p99_ms=<> overhead_ratio_p50=<ours visible / bare>`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from api.server import build_api, serve
from bench.bare import BareClient, BareStep, bare_worker, prepare
from bench.common import (
    Stack,
    add_server_options,
    announce,
    free_port,
    journey,
    load_now,
    machine,
    our_worker,
    percentile,
    registration,
    running_stack,
    table,
    wait_for_port,
)
from bench.profiling import ThreadProfiler
from domain.commands import GiveSignOff, RevokeSignOff, Verdict
from domain.identity import Actor
from runtime.settings import Settings
from store.projections import ProductProjection
from workflows.product_client import ProductLifecycleClient

APPROVER = Actor(subject="bench-approver", display_name="Bench Approver", roles=("product-lead",))
SYSTEMS = ("ours, visible", "ours, answered", "ours, client", "bare", "bare + INSERT")


async def _open_reviews(products: ProductLifecycleClient, count: int) -> list[str]:
    """Products waiting at their first review, driven there concurrently (untimed)."""
    commands, _ = journey(until_review=True)
    ids = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(count)]

    async def drive(product_id: str) -> None:
        await products.register(registration(product_id))
        for command in commands:
            await products.execute(product_id, command)

    await asyncio.gather(*(drive(product_id) for product_id in ids))
    return ids


async def _visible(projection: ProductProjection, product_id: str, version: int) -> None:
    while True:
        await projection.catch_up()
        state = await projection.get_state(product_id)
        if state is not None and state.version >= version:
            return
        await asyncio.sleep(0.001)


async def _timed(call: Awaitable[object]) -> float:
    """Seconds taken by `call` (a coroutine runs only once awaited, so it is all inside)."""
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, list[float]]:
    await prepare(stack.dsn)
    raw_pool = await asyncpg.create_pool(stack.dsn, min_size=1, max_size=10)
    ours_queue = f"bench-ours-{uuid.uuid4().hex[:8]}"
    bare_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    api = build_api(Settings(temporal_task_queue=ours_queue), stack.client, stack.pool)
    services = api.services
    now = datetime.now(UTC)
    await services.identity.add_user(APPROVER.subject, APPROVER.display_name, APPROVER.roles)
    issued = await services.identity.create_token(
        APPROVER.subject, label="bench", expires_at=now + timedelta(days=1), now=now
    )
    headers = {"Authorization": f"Bearer {issued.token}"}
    body = {"role": "product-lead", "verdict": "approve", "reason": "bench sign-off"}
    port = free_port()
    stop = asyncio.Event()
    samples: dict[str, list[float]] = {system: [] for system in SYSTEMS}
    bare = BareClient(stack.client, bare_queue)
    profiler = ThreadProfiler(args.profile)
    profiler.install()
    try:
        async with our_worker(stack, ours_queue), bare_worker(stack.client, raw_pool, bare_queue):
            serving = asyncio.create_task(serve(api.app, "127.0.0.1", port, stop))
            await wait_for_port(port)
            announce(f"setting up {args.products} products at their first review ...")
            products = await _open_reviews(services.products, args.products)
            bare_ids = [f"bare-{uuid.uuid4().hex[:10]}" for _ in range(args.products)]
            for workflow_id in bare_ids:
                await bare.start(workflow_id, BareStep("start"))
                await bare.start(workflow_id + "-pg", BareStep("start", durable=True))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

                async def ours_visible(product_id: str, answered: list[float]) -> None:
                    started = time.perf_counter()
                    response = await http.post(
                        f"/products/{product_id}/gate/signoffs", json=body, headers=headers
                    )
                    answered.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"sign-off refused: {response.text}")
                    await _visible(services.projection, product_id, response.json()["version"])

                async def revoke(product_id: str) -> None:
                    await services.products.execute(
                        product_id, RevokeSignOff(actor=APPROVER, reason="bench cycle")
                    )

                sign = GiveSignOff(
                    actor=APPROVER, role="product-lead", verdict=Verdict.APPROVE, reason="bench"
                )
                total = args.warmup + args.samples
                announce(f"measuring {args.samples} sign-offs per system ({args.warmup} warm-up)")
                with profiler.timed():
                    for n in range(total):
                        keep = n >= args.warmup
                        product_id = products[n % len(products)]
                        bare_id = bare_ids[n % len(bare_ids)]
                        answered: list[float] = []
                        visible = await _timed(ours_visible(product_id, answered))
                        await revoke(product_id)
                        client_call = await _timed(services.products.execute(product_id, sign))
                        await revoke(product_id)
                        plain = await _timed(_step(bare, bare_id, False))
                        durable = await _timed(_step(bare, bare_id + "-pg", True))
                        if keep:
                            for system, value in zip(
                                SYSTEMS,
                                (visible, answered[0], client_call, plain, durable),
                                strict=True,
                            ):
                                samples[system].append(value)
            stop.set()
            await serving
    finally:
        await raw_pool.close()
    return samples


async def _step(bare: BareClient, workflow_id: str, durable: bool) -> None:
    await bare.step(workflow_id, BareStep("sign", durable=durable))


def report(samples: dict[str, list[float]]) -> str:
    rows = []
    for system, values in samples.items():
        ms = [v * 1000 for v in values]
        rows.append(
            [
                system,
                len(ms),
                percentile(ms, 0.5),
                percentile(ms, 0.9),
                percentile(ms, 0.99),
                sum(ms) / len(ms) if ms else 0.0,
            ]
        )
    return table(["system", "samples", "p50 ms", "p90 ms", "p99 ms", "mean ms"], rows)


def summary(samples: dict[str, list[float]]) -> str:
    ours = [v * 1000 for v in samples["ours, visible"]]
    bare = [v * 1000 for v in samples["bare"]]
    ratio = percentile(ours, 0.5) / percentile(bare, 0.5)
    return (
        f"signoff p50_ms={percentile(ours, 0.5):.1f} p99_ms={percentile(ours, 0.99):.1f} "
        f"overhead_ratio_p50={ratio:.2f}"
    )


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    async with running_stack(temporal_file=args.temporal_db_file) as stack:
        samples = await measure(stack, args)
    announce(report(samples))
    announce(f"load average after: {load_now()}")
    announce(summary(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100, help="timed sign-offs per system")
    parser.add_argument("--warmup", type=int, default=10, help="untimed sign-offs per system")
    parser.add_argument("--products", type=int, default=10, help="products signed in turn")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the timed phase here (pstats)"
    )
    add_server_options(parser)
    args = parser.parse_args()
    if args.samples < 1 or args.products < 1 or args.warmup < 0:
        parser.error("--samples and --products must be at least 1, --warmup at least 0")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
