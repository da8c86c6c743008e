"""Portfolio pages at scale: what the board and the approvals inbox cost a person who opens them
when the portfolio holds many products.

Both pages read every product's state from the read model and judge each one (the board draws
a card per product and the portfolio's figures, the inbox evaluates each active product's gate),
so their cost grows with the portfolio, not with what the page shows. This bench measures how.

The log is filled with real journeys of the default playbook (`bench.common.journey`, re-stamped
per product as the audit bench does), each product cut at a different point of its journey so
that the portfolio spreads over every stage, with a tenth retired. The read model is rebuilt
from that log (printed, not a result), then each page is requested through the real app over
ASGI, signed in as a person holding every role of the playbook, `--repeats` times:

* read model: `ProductProjection.every_state()`, the pages' shared input, alone;
* board: `GET /` (cards, filters, stage-duration chart, portfolio and trail figures);
* board, one owner: `GET /?owner=` for an owner of no product (the filter applies after the
  read, so the read still costs the whole portfolio);
* inbox: `GET /inbox` (sign-offs and decisions waiting for that person);
* board as of: `GET /?as_of=` an instant that the first half of the products' events precede
  (every product replays one journey's timestamps, a microsecond later than the one before), so
  the page folds the log up to it (`--as-of-repeats`, fewer: it reads the log, not the read
  model).

Run: `python -m bench.portfolio_pages` (`--help` for sizes). The last line is
`portfolio products=<> board_p50_ms=<> inbox_p50_ms=<> board_kb=<> board_as_of_p50_ms=<>`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx

from api.server import build_api
from bench.audit_and_projections import Journeys
from bench.common import announce, load_now, machine, percentile, running_stack, table
from playbooks import load_default_playbook
from runtime.settings import Settings
from store.event_store import EventStore
from store.events import NewEvent

# The reader holds every role of the playbook, so the inbox has the most to show.
READER_ROLES = tuple(role.key for role in load_default_playbook().roles)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
APPENDS_AT_ONCE = 8


def cut_journey(index: int, products: int, events: list[NewEvent]) -> list[NewEvent]:
    """Product ``index``'s journey up to a point spread evenly over the whole journey: the
    first product holds only its registration, every tenth one its whole journey (retired)."""
    if index % 10 == 9:
        return events
    keep = 1 + (index * (len(events) - 1)) // max(1, products)
    return events[:keep]


async def fill(store: EventStore, products: int) -> tuple[int, float, datetime]:
    """Appends each product's cut journey; (events, seconds, the instant after the last event
    of the middle product, which the events of the products before it precede)."""
    journeys = Journeys()
    gate = asyncio.Semaphore(APPENDS_AT_ONCE)
    stored = 0
    halfway = datetime.now(UTC)
    started = time.perf_counter()

    async def one(product_events: list[NewEvent]) -> None:
        nonlocal stored
        async with gate:
            await store.append(product_events[0].metadata["workflow_id"], 0, product_events)
        stored += len(product_events)

    async with asyncio.TaskGroup() as group:
        for index in range(products):
            _, events = journeys.next_product()
            group.create_task(one(cut_journey(index, products, events)))
            if index == products // 2:
                halfway = max(e.recorded_at for e in events)
            if index % 1000 == 999:
                await asyncio.sleep(0)  # let the appends run while the journeys are cut
    return stored, time.perf_counter() - started, halfway


async def timed(repeats: int, call: Callable[[], Awaitable[int]]) -> tuple[list[float], int]:
    """Milliseconds of each of `repeats` calls, and the size `call` reports for the last one."""
    samples = []
    size = 0
    for _ in range(repeats):
        started = time.perf_counter()
        size = await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, size


async def sign_in(http: httpx.AsyncClient, token: str) -> None:
    page = await http.get("/signin", headers={"Accept": "text/html"})
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError("the sign-in page carries no CSRF token")
    answer = await http.post(
        "/signin",
        data={"token": token, "csrf_token": found.group(1), "next": "/"},
        headers={"Accept": "text/html"},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"signing in answered {answer.status_code}: {answer.text[:200]}")


async def main_async(args: argparse.Namespace) -> None:
    announce(machine())
    async with running_stack(pool_size=10) as stack:
        api = build_api(Settings(), stack.client, stack.pool)
        services = api.services
        announce(f"filling the log with {args.products:,} products' journeys ...")
        # The stream ids are the workflow ids the journeys carry: product-<id>.
        stored, fill_s, halfway = await fill(services.events, args.products)
        announce(f"  {stored:,} events in {fill_s:.1f} s (load {load_now()})")
        started = time.perf_counter()
        await services.projection.catch_up()
        announce(f"  read model caught up in {time.perf_counter() - started:.1f} s")

        now = datetime.now(UTC)
        await services.identity.add_user("bench-reader", "Bench Reader", READER_ROLES)
        issued = await services.identity.create_token(
            "bench-reader", label="bench", expires_at=now + timedelta(days=1), now=now
        )
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://lifecycle.bench", timeout=600
        ) as http:
            await sign_in(http, issued.token)

            async def page(path: str) -> int:
                answer = await http.get(path, headers={"Accept": "text/html"})
                if answer.status_code != 200:
                    raise RuntimeError(f"GET {path} answered {answer.status_code}")
                return len(answer.content)

            async def read_model() -> int:
                return len(await services.projection.every_state())

            as_of = halfway.isoformat().replace("+00:00", "Z")
            measured = {
                "read model": await timed(args.repeats, read_model),
                "board": await timed(args.repeats, lambda: page("/")),
                "board, one owner": await timed(args.repeats, lambda: page("/?owner=nobody")),
                "inbox": await timed(args.repeats, lambda: page("/inbox")),
                "board as of": await timed(args.as_of_repeats, lambda: page(f"/?as_of={as_of}")),
            }
    rows = [
        [name, len(samples), percentile(samples, 0.5), max(samples), size]
        for name, (samples, size) in measured.items()
    ]
    announce(table(["what", "runs", "p50 ms", "max ms", "states / bytes"], rows))
    board_kb = measured["board"][1] / 1024
    announce(
        f"portfolio products={args.products} "
        f"board_p50_ms={percentile(measured['board'][0], 0.5):.0f} "
        f"inbox_p50_ms={percentile(measured['inbox'][0], 0.5):.0f} "
        f"board_kb={board_kb:.0f} "
        f"board_as_of_p50_ms={percentile(measured['board as of'][0], 0.5):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000, help="products in the portfolio")
    parser.add_argument("--repeats", type=int, default=5, help="requests of each page")
    parser.add_argument("--as-of-repeats", type=int, default=2, help="requests as of an instant")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
