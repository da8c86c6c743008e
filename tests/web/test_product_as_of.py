"""Time travel on the product page: `?as_of=` shows the product as it stood at that instant,
folded from its events up to then, under a banner and without any form; an instant that cannot
be read, that lies ahead, or that precedes the product is a clear message."""

import html
import re
from datetime import timedelta

import httpx

from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}


def trail_of(page: httpx.Response) -> str:
    return page.text.split('id="timeline"', 1)[1].split("</section>", 1)[0]


def shown(page: httpx.Response) -> list[str]:
    return re.findall(r'<li class="event event-(\w+)"', trail_of(page))


def zulu(moment: object) -> str:
    return str(moment).replace(" ", "T").replace("+00:00", "Z")


async def test_as_of_shows_the_product_as_it_stood_then_read_only(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    stored = await web.services.events.read_stream(f"product-{product_id}")
    asked = next(e for e in stored if e.type == "GateReviewRequested")
    then = asked.recorded_at - timedelta(microseconds=1)
    web.clock.now = stored[-1].recorded_at + timedelta(days=1)
    web.app.state.web.trail_size = 2
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"

    now = await web.http.get(url, headers=HTML)
    past = await web.http.get(url, params={"as_of": zulu(then)}, headers=HTML)

    assert now.status_code == 200
    assert past.status_code == 200
    assert f"As of {then.strftime('%Y-%m-%d %H:%M')} UTC" in html.unescape(past.text)
    assert 'id="as-of"' not in now.text
    assert f'action="/ui/products/{product_id}/' in now.text
    assert f'action="/ui/products/{product_id}/' not in past.text  # no command form
    assert "No gate review requested yet." in past.text
    assert "No gate review requested yet." not in now.text
    assert "GateReviewRequested" in shown(now)
    assert "GateReviewRequested" not in shown(past)
    older = re.search(r'<a rel="next" href="([^"#]+)', past.text)
    assert older is not None
    assert "as_of=" in older.group(1)
    older_page = await web.http.get(url + html.unescape(older.group(1)), headers=HTML)
    assert older_page.status_code == 200
    assert 'id="as-of"' in older_page.text
    assert shown(older_page)
    assert f'name="as_of" value="{zulu(then)}"' in past.text  # the filter form stays in the past


async def test_as_of_refuses_an_unreadable_a_future_and_a_too_early_instant(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    stored = await web.services.events.read_stream(f"product-{product_id}")
    web.clock.now = stored[-1].recorded_at + timedelta(days=1)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"

    unreadable = await web.http.get(url, params={"as_of": "soon"}, headers=HTML)
    ahead = await web.http.get(
        url, params={"as_of": zulu(web.clock.now + timedelta(days=1))}, headers=HTML
    )
    too_early = await web.http.get(
        url, params={"as_of": zulu(stored[0].recorded_at - timedelta(days=1))}, headers=HTML
    )

    assert unreadable.status_code == 400
    assert "as_of: 'soon' is not an instant" in html.unescape(unreadable.text)
    assert ahead.status_code == 400
    assert "has not happened yet" in ahead.text
    assert too_early.status_code == 404
    assert f"No product '{product_id}' was registered as of" in html.unescape(too_early.text)


async def test_each_trail_entry_links_to_the_product_as_it_stood_right_after_it(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    stored = await web.services.events.read_stream(f"product-{product_id}")
    web.clock.now = stored[-1].recorded_at + timedelta(days=1)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"

    now = await web.http.get(url, headers=HTML)
    links = re.findall(r'<a class="as-of-link" href="([^"]+)"', trail_of(now))
    oldest = await web.http.get(html.unescape(links[-1]), headers=HTML)

    assert len(links) == len(shown(now))
    assert oldest.status_code == 200
    assert 'id="as-of"' in oldest.text
    assert shown(oldest)[-1] == "ProductRegistered"
    assert "GateReviewRequested" not in shown(oldest)
    assert 'name="as_of" value=""' in now.text  # the page offers to go back in time
