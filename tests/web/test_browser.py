"""The pages in a real browser: Debian's Chromium driven by Playwright, against the real app on
a real port (time-skipping Temporal, embedded Postgres). On failure the page at hand is saved to
test-artifacts/ as a screenshot and its HTML."""

import asyncio
import re

from playwright.sync_api import Page, expect

from api.web.session import CONTENT_SECURITY_POLICY
from tests.web.browser import in_browser
from tests.web.conftest import WebHarness


async def test_an_approver_signs_a_gate_from_the_inbox_and_the_product_moves_on(
    web: WebHarness, served: str, product_id: str
) -> None:
    await web.product_in_review(product_id)
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    name = f"Product {product_id}"

    def scenario(page: Page) -> None:
        # Sign in: the board asks for it first, and comes back after.
        response = page.goto(served + "/")
        assert response is not None
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        expect(page).to_have_url(re.compile(r"/signin\?next=/$"))
        page.fill("#token", "lc_wrong_token")
        page.click("button:has-text('Sign in')")
        expect(page.locator("#signin-problem")).to_contain_text("Sign-in refused")
        page.fill("#token", token)
        page.click("button:has-text('Sign in')")
        expect(page).to_have_url(served + "/")
        expect(page.locator(".notice")).to_have_text("Signed in as Grace Okafor.")

        # The board: the product waits in discovery for a sign-off.
        card = page.locator(f"#stage-discovery [data-product='{product_id}']")
        expect(card).to_contain_text(name)
        expect(card).to_contain_text("awaiting sign-off")
        expect(card).to_contain_text("Ada Lovelace")
        expect(page.locator("svg.duration-chart")).to_be_visible()
        page.select_option("select[name=status]", "overdue")
        page.click("button:has-text('Filter')")
        expect(page.locator(f"[data-product='{product_id}']")).to_have_count(0)
        page.goto(served + "/")

        # The product page: every criterion, who is missing, the trail.
        card.locator("a").click()
        expect(page).to_have_url(f"{served}/ui/products/{product_id}")
        expect(page.locator("#gate")).to_contain_text("5 of 5 customer interviews logged")
        expect(page.locator("#signoffs")).to_contain_text("product-lead: 0 of 1 approval")
        expect(page.locator("#timeline")).to_contain_text("Gate review requested")

        # The inbox: a rejection without a reason is refused inline with the rule's message.
        page.click("nav >> text=Inbox")
        item = page.locator(f"#approvals .inbox-item[data-product='{product_id}']")
        expect(item).to_contain_text(name)
        item.locator("button[value=reject]").click()
        refusal = page.locator(f"#approvals .inbox-item[data-product='{product_id}'] .refusal")
        expect(refusal).to_contain_text("signoff.reason_required")
        expect(refusal).to_contain_text("rejecting gate 'discovery' needs a reason")

        # A form posted without the session's CSRF token is refused.
        forged = page.request.post(
            served + "/inbox/signoffs",
            form={"product_id": product_id, "role": "product-lead", "verdict": "approve"},
        )
        assert forged.status == 403
        assert "CSRF" in forged.text()

        # Approve, then decide Go: the product moves to the planning column.
        item = page.locator(f"#approvals .inbox-item[data-product='{product_id}']")
        item.locator("textarea[name=reason]").fill("the opportunity is validated")
        item.locator("button[value=approve]").click()
        expect(page.locator(".notice")).to_contain_text(f"approve on {product_id} is recorded")
        expect(page.locator(".notice")).not_to_contain_text("The gate passed")  # a decision waits
        expect(page.locator(f"#approvals [data-product='{product_id}']")).to_have_count(0)
        decision = page.locator(f"#decisions .inbox-item[data-product='{product_id}']")
        decision.locator("textarea[name=reason]").fill("go build the plan")
        decision.locator("button[value=go]").click()
        expect(page.locator(".notice")).to_contain_text("Decision 'go'")

        page.click("nav >> text=Board")
        expect(page.locator(f"#stage-planning [data-product='{product_id}']")).to_contain_text(name)
        expect(page.locator(f"#stage-discovery [data-product='{product_id}']")).to_have_count(0)

        # The trail names the signer, the meaning and the reason.
        page.goto(f"{served}/ui/products/{product_id}")
        trail = page.locator("#timeline")
        expect(trail.locator(".event-SignOffGiven")).to_contain_text("Grace Okafor")
        expect(trail.locator(".event-SignOffGiven")).to_contain_text("approve")
        expect(trail.locator(".event-SignOffGiven")).to_contain_text("the opportunity is validated")
        expect(trail.locator(".event-GateDecided")).to_contain_text("go build the plan")

        # A phone width: the board's columns stack.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(served + "/")
        first = page.locator("#stage-discovery").bounding_box()
        second = page.locator("#stage-planning").bounding_box()
        assert first is not None
        assert second is not None
        assert first["x"] == second["x"]
        assert second["y"] > first["y"]

    await asyncio.to_thread(in_browser, "approver-signs-from-inbox", scenario)


async def test_empty_states_and_sign_out_in_the_browser(web: WebHarness, served: str) -> None:
    token = await web.token("katherine", ["exec-sponsor"], "Katherine Silva")

    def scenario(page: Page) -> None:
        page.goto(served + "/signin")
        page.fill("#token", token)
        page.click("button:has-text('Sign in')")
        expect(page.locator("main")).to_contain_text("No products yet")
        page.click("nav >> text=Inbox")
        expect(page.locator("#approvals")).to_contain_text("Nothing waits for your sign-off")
        expect(page.locator("#decisions")).to_contain_text("No gate waits for your decision")
        page.click("button:has-text('Sign out')")
        expect(page).to_have_url(served + "/signin")
        expect(page.locator(".notice")).to_have_text("Signed out.")
        page.goto(served + "/inbox")
        expect(page).to_have_url(re.compile(r"/signin\?next=/inbox$"))

    await asyncio.to_thread(in_browser, "empty-states", scenario)
