"""The board as it stood at a past instant (`/?as_of=`), folded from the event log: products
not yet registered are absent, the others sit in the stage they were in then."""

import re

from tests.web.conftest import WebHarness
from tests.web.portfolio_story import day, known_portfolio

HTML = {"Accept": "text/html"}


def columns(page: str) -> dict[str, set[str]]:
    """Product ids per stage column of a board page."""
    found: dict[str, set[str]] = {}
    for stage, body in re.findall(r'data-stage="([a-z]+)">(.*?)</section>', page, re.S):
        found[stage] = set(re.findall(r'data-product="([a-z0-9-]+)"', body))
    return found


async def test_the_board_as_of_an_instant_shows_where_each_product_stood_then(
    web: WebHarness,
) -> None:
    await known_portfolio(web.services.events, web.playbook)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    then = day(2.5).isoformat().replace("+00:00", "Z")

    past = await web.http.get(f"/?as_of={then}", headers=HTML)
    now = await web.http.get("/", headers=HTML)

    assert past.status_code == 200, past.text
    assert "As of 2026-01-07 21:00 UTC" in past.text
    was = columns(past.text)
    assert was["discovery"] == {"beacon", "fable"}
    assert was["planning"] == {"atlas", "comet"}
    assert "eve" not in set().union(*was.values())
    assert "/ui/products/atlas?as_of=2026-01-07T21%3A00%3A00%2B00%3A00" in past.text
    current = columns(now.text)
    assert current["development"] == {"atlas"}
    assert "eve" in current["discovery"]
    assert "as-of-banner" not in now.text


async def test_an_instant_that_is_no_instant_is_a_400_page_naming_it(web: WebHarness) -> None:
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))

    page = await web.http.get("/?as_of=last-tuesday", headers=HTML)

    assert page.status_code == 400
    assert "last-tuesday" in page.text
    assert "ISO 8601" in page.text
