"""The board and the inbox load every product's state in a bounded number of queries: the
count is the same for two products as for eight, counted on the database connections."""

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from store.event_store import EventStore
from store.identity import IdentityStore
from store.projections import ProductProjection
from tests.support.journey import register
from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}


class QueryCounter:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record: asyncpg.connection.LoggedQuery) -> None:
        if not record.query.startswith("SELECT pg_advisory_unlock_all()"):  # the pool's reset
            self.queries.append(record.query)


@pytest_asyncio.fixture(loop_scope="session")
async def counted(web: WebHarness, database_dsn: str) -> AsyncIterator[QueryCounter]:
    """Points the pages' stores at a pool whose every statement is counted."""
    counter = QueryCounter()

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(counter)

    pool = await asyncpg.create_pool(database_dsn, min_size=1, max_size=4, init=log_queries)
    assert pool is not None
    services = web.services
    saved = (services.events, services.projection, services.identity, services.audit_pool)
    services.events = EventStore(pool)
    services.projection = ProductProjection(pool, services.events)
    services.identity = IdentityStore(pool)
    services.audit_pool = pool
    try:
        yield counter
    finally:
        services.events, services.projection, services.identity, services.audit_pool = saved
        await pool.close()


async def queries_for(web: WebHarness, counter: QueryCounter, path: str) -> int:
    await web.http.get(path, headers=HTML)  # the read model catches up on what is new
    counter.queries.clear()
    response = await web.http.get(path, headers=HTML)
    assert response.status_code == 200
    return len(counter.queries)


async def test_the_board_and_inbox_need_as_many_queries_for_eight_products_as_for_two(
    web: WebHarness, counted: QueryCounter, product_id: str
) -> None:
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    await web.product_in_review(f"{product_id}-0")
    await web.services.products.register(register(f"{product_id}-1", web.playbook))
    board_for_two = await queries_for(web, counted, "/")
    inbox_for_two = await queries_for(web, counted, "/inbox")

    for n in range(2, 8):
        await web.services.products.register(register(f"{product_id}-{n}", web.playbook))
    board_for_eight = await queries_for(web, counted, "/")
    inbox_for_eight = await queries_for(web, counted, "/inbox")

    board = (await web.http.get("/", headers=HTML)).text
    assert board.count('class="card status-') == 8
    counted.queries.clear()
    await web.http.get("/", headers=HTML)
    assert not any("FROM public.events" in q and "stream_id LIKE" in q for q in counted.queries)
    # who is signing in (2), the read model's catch-up (2), every state at once (1), the log's
    # head for the portfolio figures (1): unchanged since the last load, so no scan of the log
    assert board_for_eight == board_for_two <= 7
    assert inbox_for_eight == inbox_for_two <= 10
