"""The product page's decision trail filtered by event type, actor and time range through a
plain GET form; the filters ride along on the page links, and a value that cannot be read is a
message naming its field, not a server error."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from domain.commands import RecordMetric
from tests.support.journey import OWNER
from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}
PAGE = 3
METRICS = 7


def trail_of(page: httpx.Response) -> str:
    return page.text.split('id="timeline"', 1)[1].split("</section>", 1)[0]


def shown(page: httpx.Response) -> list[str]:
    return re.findall(r'<li class="event event-(\w+)"', trail_of(page))


def link(page: httpx.Response, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page.text)
    return html.unescape(found.group(1)).split("#")[0] if found else None


async def product_with_metrics(web: WebHarness, product_id: str) -> None:
    """A product in review (registered, evidence, checklist, review requested by the owner)
    plus seven metric readings."""
    await web.product_in_review(product_id)
    for n in range(METRICS):
        await web.services.products.execute(
            product_id,
            RecordMetric(actor=OWNER, metric="activation-rate", value=n, source=f"week {n}"),
        )
    web.app.state.web.trail_size = PAGE


async def test_the_trail_filters_by_event_type_and_the_page_links_keep_the_filter(
    web: WebHarness, product_id: str
) -> None:
    await product_with_metrics(web, product_id)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"

    first = await web.http.get(url, params={"type": "MetricRecorded"}, headers=HTML)
    pages = [shown(first)]
    page = first
    while (older := link(page, "next")) is not None:
        assert parse_qs(urlsplit(older).query)["type"] == ["MetricRecorded"]
        page = await web.http.get(url + older, headers=HTML)
        pages.append(shown(page))

    assert first.status_code == 200
    assert '<option value="MetricRecorded" selected>' in first.text
    assert [len(p) for p in pages] == [3, 3, 1]
    assert {kind for p in pages for kind in p} == {"MetricRecorded"}
    newer = link(page, "prev")
    assert newer is not None
    assert "type=MetricRecorded" in newer
    assert shown(await web.http.get(url + newer, headers=HTML)) == pages[1]


async def test_the_trail_filters_by_actor_and_time_range(web: WebHarness, product_id: str) -> None:
    await product_with_metrics(web, product_id)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"
    stored = await web.services.events.read_stream(f"product-{product_id}")
    registered_at = stored[0].recorded_at
    last = stored[-1].recorded_at

    by_owner = await web.http.get(url, params={"actor": OWNER.subject}, headers=HTML)
    by_nobody = await web.http.get(url, params={"actor": "nobody"}, headers=HTML)
    before_it_began = await web.http.get(
        url, params={"until": (registered_at - timedelta(days=1)).date().isoformat()}, headers=HTML
    )
    until_the_end_of_time = await web.http.get(url, params={"until": "9999-12-31"}, headers=HTML)
    since_the_last = await web.http.get(
        url, params={"since": last.isoformat(), "until": last.isoformat()}, headers=HTML
    )

    assert shown(by_owner) == ["MetricRecorded"] * PAGE
    assert f'value="{OWNER.subject}"' in by_owner.text
    assert shown(by_nobody) == []
    assert "No event matches these filters." in by_nobody.text
    assert shown(before_it_began) == []
    assert until_the_end_of_time.status_code == 200
    assert shown(until_the_end_of_time) == shown(by_owner)
    assert [e.type for e in stored if e.recorded_at == last] == shown(since_the_last)[::-1]
    assert link(since_the_last, "next") is None


async def test_a_filter_that_cannot_be_read_is_a_message_naming_its_field(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))
    url = f"/ui/products/{product_id}"

    unknown_type = await web.http.get(url, params={"type": "Nonsense"}, headers=HTML)
    bad_since = await web.http.get(url, params={"since": "last tuesday"}, headers=HTML)
    backwards = await web.http.get(
        url, params={"since": "2026-03-02", "until": "2026-03-01"}, headers=HTML
    )
    control = await web.http.get(url, params={"actor": "gr\x01ace"}, headers=HTML)

    for page in (unknown_type, bad_since, backwards, control):
        assert page.status_code == 400
        assert 'id="filter-problem"' in page.text
        assert shown(page) == []
    assert "type: no event type named 'Nonsense'" in html.unescape(unknown_type.text)
    assert "since: 'last tuesday' is not an instant" in html.unescape(bad_since.text)
    assert 'value="last tuesday"' in bad_since.text  # the form keeps what was typed
    assert "until: '2026-03-01' is before since ('2026-03-02')" in html.unescape(backwards.text)
    assert "actor: a person's id is 1 to 128 printable characters" in html.unescape(control.text)
