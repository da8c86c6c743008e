"""The issue's "done when", in a browser: with the portfolio `lifecycle dev --demo` seeds, a demo
approver signs the gate waiting for them in three clicks, and the product moves column.

The demo's product ids are fixed and workflow ids outlive a test on the session's Temporal
server, so the demo is seeded by this one test only.
"""

import asyncio

from playwright.sync_api import Page, expect

from runtime.demo import DemoPortfolio
from tests.web.browser import PHONE, Clicks, fits_the_screen, in_browser, sign_in
from tests.web.conftest import WebHarness


async def test_a_demo_approver_signs_a_waiting_gate_in_three_clicks_and_it_moves_column(
    web: WebHarness, served: str
) -> None:
    demo = DemoPortfolio(web.identity, web.services.products)
    people = await demo.seed(web.playbook, web.clock.now)
    grace = next(p for p in people if p.actor.subject == "grace")

    def scenario(page: Page) -> None:
        sign_in(page, served, grace.token)
        waiting = page.locator("#stage-planning [data-product='beacon-insights']")
        expect(waiting).to_contain_text("awaiting sign-off")

        click = Clicks()
        click(page.locator("nav >> text=Inbox"))
        item = page.locator("#approvals .inbox-item[data-product='beacon-insights']")
        expect(item).to_contain_text("Beacon Insights")
        click(item.locator("button[value=approve]"))
        notice = page.locator(".notice")
        expect(notice).to_contain_text("approve on beacon-insights is recorded")
        expect(notice).to_contain_text("The gate passed: beacon-insights is now in development.")
        click(page.locator("nav >> text=Board"))

        moved = page.locator("#stage-development [data-product='beacon-insights']")
        expect(moved).to_contain_text("Beacon Insights")
        expect(page.locator("#stage-planning [data-product='beacon-insights']")).to_have_count(0)
        assert click.count == 3

        # The demo's pages read on a phone too.
        page.set_viewport_size(PHONE)
        for path in ("/", "/inbox", "/ui/products/beacon-insights", "/ui/products/echo-classic"):
            page.goto(served + path)
            assert fits_the_screen(page), path

    await asyncio.to_thread(in_browser, "demo-approver-three-clicks", scenario)
