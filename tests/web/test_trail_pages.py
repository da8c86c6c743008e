"""The product page's decision trail in pages: newest first, plain links to older and newer
pages by log position, and a clear refusal of a malformed page link."""

import asyncio
import html
import re

import httpx
from playwright.sync_api import Page, expect

from domain.commands import RecordMetric
from tests.support.journey import OWNER
from tests.web.browser import in_browser, sign_in
from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}
PAGE = 5
METRICS = 12


async def product_with_a_long_trail(web: WebHarness, product_id: str) -> list[int]:
    """A product in review plus a dozen metric readings; returns its events' positions."""
    await web.product_in_review(product_id)
    for n in range(METRICS):
        await web.services.products.execute(
            product_id,
            RecordMetric(actor=OWNER, metric="activation-rate", value=n, source=f"week {n}"),
        )
    web.app.state.web.trail_size = PAGE
    return [e.position for e in await web.services.events.read_stream(f"product-{product_id}")]


def trail_of(page: httpx.Response) -> str:
    return page.text.split('id="timeline"', 1)[1].split("</section>", 1)[0]


def shown(page: httpx.Response) -> list[str]:
    """The kinds of the trail's entries, top to bottom."""
    return re.findall(r'<li class="event event-(\w+)"', trail_of(page))


def link(page: httpx.Response, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page.text)
    return found.group(1).split("#")[0] if found else None


async def test_the_trail_pages_back_and_forth_by_position(web: WebHarness, product_id: str) -> None:
    positions = await product_with_a_long_trail(web, product_id)
    assert len(positions) > 2 * PAGE
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    url = f"/ui/products/{product_id}"

    latest = await web.http.get(url, headers=HTML)
    assert shown(latest) == ["MetricRecorded"] * PAGE
    assert "week 11" in trail_of(latest)
    assert "week 6" not in trail_of(latest)
    assert link(latest, "prev") is None
    assert link(latest, "next") == f"?before={positions[-PAGE]}"

    pages = [shown(latest)]
    page = latest
    while (older := link(page, "next")) is not None:
        page = await web.http.get(url + older, headers=HTML)
        assert page.status_code == 200
        pages.append(shown(page))
    assert all(1 <= len(p) <= PAGE for p in pages)
    assert sum(len(p) for p in pages) == len(positions)
    assert pages[-1][-1] == "ProductRegistered"

    newer = link(page, "prev")
    assert newer is not None
    back = await web.http.get(url + newer, headers=HTML)
    assert shown(back) == pages[-2]


async def test_a_page_stays_put_while_the_product_collects_events(
    web: WebHarness, product_id: str
) -> None:
    positions = await product_with_a_long_trail(web, product_id)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    url = f"/ui/products/{product_id}?before={positions[-PAGE]}"
    before = shown(await web.http.get(url, headers=HTML))
    await web.services.products.execute(
        product_id, RecordMetric(actor=OWNER, metric="activation-rate", value=99, source="late")
    )
    after = await web.http.get(url, headers=HTML)
    assert shown(after) == before
    assert "late" not in trail_of(after)
    assert "late" in trail_of(await web.http.get(f"/ui/products/{product_id}", headers=HTML))


async def test_a_malformed_page_link_is_refused_and_an_empty_page_says_so(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    url = f"/ui/products/{product_id}"
    bad = await web.http.get(url + "?before=yesterday", headers=HTML)
    assert bad.status_code == 400
    assert "'before' must be a position in the log" in html.unescape(bad.text)
    both = await web.http.get(url + "?before=5&after=2", headers=HTML)
    assert both.status_code == 400
    assert "not both" in both.text
    beyond = await web.http.get(url + "?after=999999", headers=HTML)
    assert beyond.status_code == 200
    assert "No events on this page of the trail" in beyond.text


async def test_paging_the_trail_in_the_browser_needs_no_script(
    web: WebHarness, served: str, product_id: str
) -> None:
    await product_with_a_long_trail(web, product_id)
    token = await web.token("grace", ["product-lead"], "Grace Okafor")

    def scenario(page: Page) -> None:
        sign_in(page, served, token)
        page.goto(f"{served}/ui/products/{product_id}")
        trail = page.locator("#timeline")
        expect(trail.locator("li.event")).to_have_count(PAGE)
        expect(trail.locator("li.event").first).to_contain_text("week 11")
        trail.locator("a[rel=next]").first.click()
        expect(trail.locator("li.event").first).to_contain_text("week 6")
        trail.locator("a[rel=prev]").first.click()
        expect(trail.locator("li.event").first).to_contain_text("week 11")
        expect(trail.locator("a[rel=prev]")).to_have_count(0)

    await asyncio.to_thread(in_browser, "trail-pages", scenario)
