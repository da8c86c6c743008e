"""The Portfolio charts in Chromium on a phone and on a laptop: drawn inside the screen, their
words big enough to read, and their tables there for screen readers but not on screen."""

import asyncio

from playwright.sync_api import Page, ViewportSize, expect

from tests.web.browser import LAPTOP, PHONE, fits_the_screen, in_browser, sign_in
from tests.web.conftest import WebHarness
from tests.web.portfolio_story import day, known_portfolio

CHARTS = ("portfolio-time", "portfolio-first-pass", "portfolio-latency", "portfolio-kills")
# An SVG <text> box is about 1.2 times its font size: 11px tall is a 9px font, the least we allow.
LEAST_TEXT_HEIGHT = 11


def charts_read_at(page: Page, viewport: ViewportSize) -> None:
    page.set_viewport_size(viewport)
    section = page.locator("#portfolio")
    section.scroll_into_view_if_needed()
    expect(section.locator("figcaption")).to_have_count(len(CHARTS))
    assert fits_the_screen(page)
    for key in CHARTS:
        chart = page.locator(f"#{key}-chart")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
        for text in (chart.locator("text.pf-label").first, chart.locator("text.pf-value").first):
            text_box = text.bounding_box()
            assert text_box is not None
            assert text_box["height"] >= LEAST_TEXT_HEIGHT, (
                f"{key} at {viewport['width']}px: text drawn {text_box['height']:.1f}px tall"
            )
        table = page.locator(f"#{key}-table")
        expect(table).to_be_attached()
        hidden = table.locator("xpath=..").bounding_box()  # the visually hidden wrapper
        assert hidden is not None
        assert hidden["width"] <= 1


async def test_the_portfolio_charts_read_on_a_phone_and_on_a_laptop(
    web: WebHarness, served: str
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    web.clock.now = day(10)
    token = await web.token("grace", ["product-lead"], "Grace Okafor")

    def scenario(page: Page) -> None:
        sign_in(page, served, token)
        charts_read_at(page, PHONE)
        expect(page.locator("#portfolio-time-chart")).to_contain_text("median 2.0 d")
        expect(page.locator("#portfolio-first-pass-chart")).to_contain_text("60% (3 of 5)")
        charts_read_at(page, LAPTOP)

    await asyncio.to_thread(in_browser, "portfolio-charts", scenario, PHONE)
