"""The board's Portfolio section: time in stage, gate first-pass rate and kills for a portfolio
whose every stay and decision is known (see ``portfolio_story``), read from the charts' text
equivalents; its empty states; and the trail scanned again only when the log has grown."""

import asyncio
import uuid
from html.parser import HTMLParser

import asyncpg
import httpx

from api.app import create_app
from domain.commands import GateOutcome
from store.events import NewEvent
from store.trail_analytics import AnalyticsCache, portfolio_analytics
from tests.support.journey import register
from tests.web.conftest import WebHarness
from tests.web.portfolio_story import day, known_portfolio

HTML = {"Accept": "text/html"}


class _Table(HTMLParser):
    """The cell texts of one table's body rows, found by the table's id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.in_body = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = self.in_body = False
        elif self.cell is not None and tag in ("td", "th"):
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows


async def board(web: WebHarness) -> str:
    response = await web.http.get("/", headers=HTML)
    assert response.status_code == 200
    return response.text


async def test_the_portfolio_shows_time_in_stage_first_pass_rates_and_kills_of_known_products(
    web: WebHarness,
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    web.clock.now = day(10)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))

    page = await board(web)

    assert table(page, "portfolio-time-table") == [
        ["discovery", "5", "2.0 d", "5.0 d"],
        ["planning", "2", "2.0 d", "4.0 d"],
    ]
    assert table(page, "portfolio-first-pass-table") == [
        ["discovery", "3", "5", "60%"],
        ["planning", "1", "2", "50%"],
    ]
    assert table(page, "portfolio-latency-table") == [
        ["engineering-lead", "1", "3.0 d", "3.0 d"],
        ["exec-sponsor", "1", "3.0 d", "3.0 d"],
        ["finance", "1", "3.0 d", "3.0 d"],
        ["product-lead", "5", "2.0 d", "3.0 d"],
    ]
    assert table(page, "portfolio-kills-table") == [["discovery", "1"], ["planning", "1"]]
    assert "All 6 products" in page
    assert "discovery: median 2.0 d, p90 5.0 d over 5 finished stays" in page  # the <desc>
    assert page.count('aria-labelledby="portfolio-') == 5  # four charts and the section
    assert page.count('class="pf-median"') == page.count('class="pf-p90"') == 2 + 4


async def test_time_in_stage_from_the_read_model_equals_the_trails_figures(
    web: WebHarness,
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))

    page = await board(web)
    assert web.services.audit_pool is not None
    trail = await portfolio_analytics(web.services.audit_pool, None, day(10))

    expected = [
        [
            stage,
            str(s.count),
            f"{(s.median_seconds or 0) / 86400:.1f} d",
            f"{(s.p90_seconds or 0) / 86400:.1f} d",
        ]
        for stage, s in trail.time_in_stage.items()
    ]
    assert table(page, "portfolio-time-table") == expected
    assert trail.killed_per_stage == {"discovery": 1, "planning": 1}


async def test_the_portfolio_says_what_is_not_there_yet(web: WebHarness, product_id: str) -> None:
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))

    empty = await board(web)
    assert "No finished stays yet" in empty
    assert "No gate decided yet." in empty
    assert "No sign-off given yet." in empty
    assert "No product killed." in empty
    assert 'id="portfolio-time-chart"' not in empty

    await web.services.products.register(register(product_id, web.playbook))
    one = await board(web)
    assert "All 1 product," in one
    assert "No finished stays yet" in one  # its first stay is still running


async def test_figures_from_the_trail_say_why_when_it_cannot_be_read_and_the_rest_still_shows(
    web: WebHarness,
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    web.services.audit_pool = None
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))

    page = await board(web)

    assert "First-pass rates are unavailable: reading the event log is not configured." in page
    assert "Approval latencies are unavailable: reading the event log is not configured." in page
    assert table(page, "portfolio-first-pass-table") == []
    assert table(page, "portfolio-latency-table") == []
    assert table(page, "portfolio-time-table")[0] == ["discovery", "5", "2.0 d", "5.0 d"]
    assert table(page, "portfolio-kills-table") == [["discovery", "1"], ["planning", "1"]]


async def test_the_trail_is_read_again_only_after_a_new_event_and_only_what_is_new(
    web: WebHarness,
) -> None:
    portfolio = await known_portfolio(web.services.events, web.playbook)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    cache = web.app.state.web.analytics
    log = web.services.audit_pool
    assert log is not None
    everything = int(await log.fetchval("SELECT count(*) FROM public.events"))

    await board(web)
    await board(web)
    await board(web)
    assert (cache.reads, cache.events_read) == (1, everything)

    eve_before = await web.services.events.stream_version("product-eve")
    await portfolio.go("eve", day(7))
    eve_new = await web.services.events.stream_version("product-eve") - eve_before
    page = await board(web)
    assert (cache.reads, cache.events_read) == (2, everything + eve_new)
    assert table(page, "portfolio-first-pass-table")[0] == ["discovery", "4", "6", "67%"]
    assert table(page, "portfolio-time-table")[0] == ["discovery", "6", "2.0 d", "5.0 d"]

    await board(web)
    assert cache.reads == 2
    kept = await cache.current(log, web.clock.now)
    assert kept == await portfolio_analytics(log, None, web.clock.now)  # as a full read says


async def test_a_decision_that_ends_no_stay_still_refreshes_the_first_pass_rate(
    web: WebHarness,
) -> None:
    portfolio = await known_portfolio(web.services.events, web.playbook)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    before = await board(web)
    assert ["planning", "1", "2", "50%"] in table(before, "portfolio-first-pass-table")

    await portfolio.decide("fable", GateOutcome.HOLD, day(8))
    after = await board(web)

    assert ["planning", "1", "3", "33%"] in table(after, "portfolio-first-pass-table")


async def test_an_event_the_read_model_cannot_fold_is_named_on_a_stalled_page_not_a_500(
    web: WebHarness,
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    poison = NewEvent(
        event_id=uuid.uuid4(),
        type="StageEntered",
        schema_version=1,
        data={"stage": "nowhere"},
        metadata={},
        recorded_at=day(9),
    )
    appended = await web.services.events.append("product-ghost", 0, [poison])

    page = await web.http.get("/", headers=HTML)

    assert page.status_code == 503
    assert "Read model stalled" in page.text
    assert f"the event at position {appended.last_position} (product-ghost)" in page.text
    assert page.headers["content-security-policy"]


async def test_a_read_cancelled_halfway_counts_no_event_twice_afterwards(web: WebHarness) -> None:
    """A page load can be cancelled (the browser went away) while the cache folds new events
    one small batch at a time; the next read must still equal a full read of the log."""
    await known_portfolio(web.services.events, web.playbook)
    log = web.services.audit_pool
    assert log is not None
    cache = AnalyticsCache(batch_size=1)
    batches = 0

    def cancel_at_the_fifth_batch(query: asyncpg.connection.LoggedQuery) -> None:
        nonlocal batches
        if "stream_id LIKE" in query.query:
            batches += 1
            if batches == 5:
                reading.cancel()

    async with log.acquire() as connection:
        connection.add_query_logger(cancel_at_the_fifth_batch)
        reading = asyncio.create_task(cache.current(connection, day(10)))
        await asyncio.gather(reading, return_exceptions=True)
        connection.remove_query_logger(cancel_at_the_fifth_batch)
    assert reading.cancelled()
    assert 5 <= batches < int(await log.fetchval("SELECT count(*) FROM public.events"))

    assert await cache.current(log, day(10)) == await portfolio_analytics(log, None, day(10))


async def test_an_api_process_folds_the_trail_figures_at_start_so_the_first_board_reads_nothing(
    web: WebHarness,
) -> None:
    """The first read folds the whole log: at start-up, not while the first visitor waits."""
    await known_portfolio(web.services.events, web.playbook)
    log = web.services.audit_pool
    assert log is not None
    everything = int(await log.fetchval("SELECT count(*) FROM public.events"))
    app = create_app(web.services, run_projector=True, session_secret="web-test-secret")
    cache: AnalyticsCache = app.state.web.analytics

    async with app.router.lifespan_context(app):
        for _ in range(600):  # 30 s
            if cache.reads:
                break
            await asyncio.sleep(0.05)
        warmed = (cache.reads, cache.events_read)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
            await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"), http)
            page = await http.get("/", headers=HTML)

    assert page.status_code == 200
    assert table(page.text, "portfolio-first-pass-table")[0] == ["discovery", "3", "5", "60%"]
    assert warmed == (1, everything)  # before anyone asked
    assert (cache.reads, cache.events_read) == (1, everything)  # the board read nothing more
