"""Running a scenario in Debian's Chromium through Playwright, saving the page on failure.

Shared by the browser tests: a fresh browser per scenario (so a session never leaks between
tests), Content-Security-Policy violations fail the scenario, and whatever page was on screen
when it failed is kept in test-artifacts/ as a screenshot and its HTML.
"""

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Locator, Page, ViewportSize, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = ViewportSize(width=1366, height=900)
PHONE = ViewportSize(width=390, height=844)


def in_browser(
    name: str, scenario: Callable[[Page], None], viewport: ViewportSize = LAPTOP
) -> None:
    """Runs `scenario` in a fresh Chromium page; CSP violations fail it too."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(15_000)
            violations: list[str] = []

            def watch(message: ConsoleMessage) -> None:
                if "Content Security Policy" in message.text:
                    violations.append(message.text)

            page.on("console", watch)
            try:
                scenario(page)
                assert not violations, f"CSP violations: {violations}"
            except BaseException:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content())
                raise
        finally:
            browser.close()


class Clicks:
    """Clicks that count: the tests of "done in N clicks" click through this."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, target: Locator) -> None:
        self.count += 1
        target.click()


def sign_in(page: Page, base_url: str, token: str) -> None:
    page.goto(base_url + "/signin")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base_url + "/")


def fits_the_screen(page: Page) -> bool:
    """Nothing makes the page scroll sideways (tables may scroll inside themselves)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    return viewport is not None and width <= viewport["width"]
