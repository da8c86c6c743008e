"""The Portfolio charts in Chromium at a phone's width: drawn inside the screen, their words
big enough to read, and their tables there for screen readers but not on screen."""

import asyncio

from playwright.sync_api import Page, expect

from tests.web.browser import PHONE, fits_the_screen, in_browser, sign_in
from tests.web.conftest import WebHarness
from tests.web.portfolio_story import day, known_portfolio

CHARTS = ("portfolio-time", "portfolio-first-pass", "portfolio-kills")


async def test_the_portfolio_charts_read_on_a_phone(web: WebHarness, served: str) -> None:
    await known_portfolio(web.services.events, web.playbook)
    web.clock.now = day(10)
    token = await web.token("grace", ["product-lead"], "Grace Okafor")

    def scenario(page: Page) -> None:
        sign_in(page, served, token)
        section = page.locator("#portfolio")
        section.scroll_into_view_if_needed()
        expect(section.locator("figcaption")).to_have_count(3)
        assert fits_the_screen(page)
        for key in CHARTS:
            chart = page.locator(f"#{key}-chart")
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"]
            label = chart.locator("text.pf-label").first
            label_box = label.bounding_box()
            assert label_box is not None
            assert label_box["height"] >= 11, f"{key}: labels drawn {label_box['height']}px tall"
            expect(page.locator(f"#{key}-table")).to_be_attached()
            hidden = page.locator(f"#{key}-table").bounding_box()
            assert hidden is not None
            assert hidden["width"] <= 1
        expect(page.locator("#portfolio-time-chart")).to_contain_text("median 2.0 d")
        expect(page.locator("#portfolio-first-pass-chart")).to_contain_text("60% (3 of 5)")

    await asyncio.to_thread(in_browser, "portfolio-phone", scenario, PHONE)
