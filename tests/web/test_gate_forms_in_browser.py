"""Revoking a sign-off and meeting a Conditional Go's condition, in Chromium at phone width."""

import asyncio

from playwright.sync_api import Page, expect

from domain.commands import GiveSignOff, Verdict
from tests.web.browser import PHONE, fits_the_screen, in_browser, sign_in
from tests.web.conftest import WebHarness
from tests.web.test_gate_forms import CONDITION, GRACE


async def test_a_signer_revokes_then_decides_a_conditional_go_and_the_owner_meets_it(
    web: WebHarness, served: str, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.services.products.execute(
        product_id, GiveSignOff(actor=GRACE, role="product-lead", verdict=Verdict.APPROVE)
    )
    grace = await web.token(GRACE.subject, GRACE.roles, GRACE.display_name)
    ada = await web.token("pm-ada", ["product-manager"], "Ada Lovelace")
    product_page = f"{served}/ui/products/{product_id}"

    def scenario(page: Page) -> None:
        sign_in(page, served, grace)
        page.goto(product_page)
        assert fits_the_screen(page)

        # Revoking needs a reason: the rule's message appears next to the form.
        revoke = page.locator("form.revoke-form")
        revoke.locator("button").click()
        expect(page.locator("form.revoke-form .refusal")).to_contain_text("signoff.reason_required")
        page.fill("#revoke-reason", "one interview was with a colleague")
        page.locator("form.revoke-form button").click()
        expect(page.locator(".notice")).to_contain_text("Your sign-off is revoked")
        expect(page.locator("#signoffs tr.revoked")).to_contain_text("Grace Okafor")
        expect(page.locator("form.revoke-form")).to_have_count(0)

        # Sign again, then decide a Conditional Go with one condition.
        page.fill("#sign-reason", "rechecked: all five are customers")
        page.locator("form.sign-form button[value=approve]").click()
        expect(page.locator(".notice")).to_contain_text("Your sign-off is recorded.")
        decide = page.locator("form[action$='/decision']")
        decide.locator("select[name=outcome]").select_option("conditional_go")
        decide.locator("textarea[name=reason]").fill("go, once legal has signed")
        decide.locator("textarea[name=conditions]").fill(CONDITION)
        decide.locator("button").click()
        expect(page.locator(".notice")).to_contain_text("Decision recorded.")
        condition = page.locator("#conditions .condition")
        expect(condition).to_contain_text(CONDITION)
        expect(condition).to_contain_text("records it as met")
        page.click("button:has-text('Sign out')")

        # The owner marks it met.
        sign_in(page, served, ada)
        page.goto(product_page)
        assert fits_the_screen(page)
        condition.locator("input[name=note]").fill("signed on Monday")
        condition.locator("button:has-text('Mark met')").click()
        expect(page.locator(".notice")).to_contain_text("Condition recorded as met.")
        expect(condition).to_contain_text("met by Ada Lovelace")
        expect(page.locator(".badge.stage")).to_have_text("planning")

    await asyncio.to_thread(in_browser, "revoke-and-conditions", scenario, PHONE)
