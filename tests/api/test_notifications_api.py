"""Notifications over HTTP: a product's for anyone signed in, the feed by role, paging, refusals."""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from domain.notifications import Notification
from store.notification_outbox import NotificationOutbox
from tests.api.conftest import ApiHarness
from tests.store.test_notification_outbox import T0, notification


def outbox_of(api: ApiHarness) -> NotificationOutbox:
    assert api.services.outbox is not None
    return api.services.outbox


def listed(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [n["notification_id"] for n in response.json()["notifications"]]


def refusal(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["status"], error["rule"]) == (status, rule)
    assert error["message"]
    return error


PORTFOLIO: list[Notification] = [
    notification(1, product_id="atlas", recipient_roles=["product-lead"]),
    notification(2, product_id="atlas", kind="decision", recipient_roles=["finance", "legal"]),
    notification(3, product_id="orbit", recipient_roles=[], recipient_subjects=["grace"]),
    notification(4, product_id="orbit", kind="reminder", recipient_roles=["finance"]),
    notification(5, product_id="orbit", kind="escalation", recipient_roles=["exec-sponsor"]),
]


@pytest.fixture
async def portfolio(api: ApiHarness) -> list[Notification]:
    await outbox_of(api).record(PORTFOLIO)
    return PORTFOLIO


# -- a product's notifications --------------------------------------------------------------


async def test_anyone_signed_in_sees_a_products_notifications_newest_first(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    somebody = await api.person("sam", ["qa"])

    response = await api.http.get("/products/orbit/notifications", headers=somebody)

    assert listed(response) == ["note-0005", "note-0004", "note-0003"]
    first = response.json()["notifications"][0]
    assert first["kind"] == "escalation"
    assert first["product_name"] == "Atlas Search"
    assert first["gate"] == "discovery"
    assert first["recipient_roles"] == ["exec-sponsor"]
    assert first["channel"] == "log"
    assert first["delivered_at"] is None
    assert datetime.fromisoformat(first["occurred_at"]) == T0 + timedelta(minutes=5)
    assert response.json()["next_before"] is None


async def test_a_products_notifications_filter_by_kind_and_limit(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    somebody = await api.person("sam", ["qa"])
    get = api.http.get

    by_kind = await get("/products/orbit/notifications?kind=reminder", headers=somebody)
    limited = await get("/products/orbit/notifications?limit=1", headers=somebody)

    assert listed(by_kind) == ["note-0004"]
    assert listed(limited) == ["note-0005"]
    assert limited.json()["next_before_id"] == "note-0005"


async def test_a_product_without_notifications_answers_an_empty_list(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    somebody = await api.person("sam", ["qa"])

    response = await api.http.get("/products/never-registered/notifications", headers=somebody)

    assert listed(response) == []


async def test_delivery_shows_once_a_notification_was_sent(api: ApiHarness) -> None:
    await outbox_of(api).record([notification(1)])
    await outbox_of(api).mark_delivered(["note-0001"], T0 + timedelta(hours=1))
    somebody = await api.person("sam", ["qa"])

    response = await api.http.get("/products/atlas/notifications", headers=somebody)

    (shown,) = response.json()["notifications"]
    assert datetime.fromisoformat(shown["delivered_at"]) == T0 + timedelta(hours=1)


# -- the feed -------------------------------------------------------------------------------


async def test_an_admin_sees_every_notification(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    admin = await api.person("ann", ["admin"])

    everything = await api.http.get("/notifications", headers=admin)
    to_finance = await api.http.get("/notifications?role=finance", headers=admin)
    decisions = await api.http.get("/notifications?kind=decision", headers=admin)

    assert listed(everything) == [f"note-{n:04d}" for n in (5, 4, 3, 2, 1)]
    assert listed(to_finance) == ["note-0004", "note-0002"]
    assert listed(decisions) == ["note-0002"]


async def test_others_see_what_is_addressed_to_their_roles_or_to_them(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    grace = await api.person("grace", ["finance"])
    lead = await api.person("linus", ["product-lead", "qa"])
    nobody = await api.person("sam", ["qa"])

    assert listed(await api.http.get("/notifications", headers=grace)) == [
        "note-0004",
        "note-0003",
        "note-0002",
    ]
    assert listed(await api.http.get("/notifications", headers=lead)) == ["note-0001"]
    assert listed(await api.http.get("/notifications", headers=nobody)) == []


async def test_a_role_filter_narrows_what_a_person_may_see_and_never_widens_it(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    grace = await api.person("grace", ["finance"])

    finance = await api.http.get("/notifications?role=finance", headers=grace)
    legal = await api.http.get("/notifications?role=legal", headers=grace)
    sponsor = await api.http.get("/notifications?role=exec-sponsor", headers=grace)

    assert listed(finance) == ["note-0004", "note-0002"]
    assert listed(legal) == ["note-0002"]  # also addressed to finance, so hers to see
    assert listed(sponsor) == []


async def test_pages_follow_each_other_without_losing_notifications_at_the_same_moment(
    api: ApiHarness,
) -> None:
    same_moment = T0 + timedelta(hours=1)
    await outbox_of(api).record(
        [notification(n, occurred_at=same_moment) for n in range(5)] + [notification(9)]
    )
    admin = await api.person("ann", ["admin"])

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        response = await api.http.get("/notifications", params=params, headers=admin)
        seen += listed(response)
        page = response.json()
        if page["next_before"] is None:
            break
        params = {"limit": 2, "before": page["next_before"], "before_id": page["next_before_id"]}

    assert seen == ["note-0004", "note-0003", "note-0002", "note-0001", "note-0000", "note-0009"]


async def test_before_keeps_only_earlier_notifications(
    api: ApiHarness, portfolio: list[Notification]
) -> None:
    admin = await api.person("ann", ["admin"])
    before = (T0 + timedelta(minutes=3)).astimezone(UTC).isoformat()

    response = await api.http.get("/notifications", params={"before": before}, headers=admin)

    assert listed(response) == ["note-0002", "note-0001"]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/notifications", "/products/atlas/notifications"])
async def test_reading_notifications_needs_a_sign_in(api: ApiHarness, path: str) -> None:
    missing = await api.http.get(path)
    garbled = await api.http.get(path, headers={"Authorization": "Bearer lc_nope"})

    refusal(missing, 401, "auth.missing_token")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    refusal(garbled, 401, "auth.token_malformed")


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=many",
        "kind=gossip",
        "role=Not%20A%20Role",
        "before=2026-03-02T09:30:00",  # no offset: which 09:30?
        "before=yesterday",
        "before=0001-01-01T00:00:00%2B05:00",  # earlier than UTC can say
        "before=9999-12-31T23:59:59-05:00",  # later than UTC can say
        "before_id=note-0001",  # continues a page, so needs before too
        "before=2026-03-02T09:30:00Z&before_id=a%00b",
    ],
)
async def test_bad_queries_are_refused_with_422(
    api: ApiHarness, portfolio: list[Notification], query: str
) -> None:
    admin = await api.person("ann", ["admin"])

    feed = await api.http.get(f"/notifications?{query}", headers=admin)

    refusal(feed, 422, "request.invalid")
    if not query.startswith("role="):
        product = await api.http.get(f"/products/atlas/notifications?{query}", headers=admin)
        refusal(product, 422, "request.invalid")


async def test_a_malformed_product_id_is_refused_with_422(api: ApiHarness) -> None:
    somebody = await api.person("sam", ["qa"])

    response = await api.http.get("/products/Not_An_Id/notifications", headers=somebody)

    refusal(response, 422, "request.invalid")


async def test_without_an_outbox_the_listing_says_it_is_unavailable(api: ApiHarness) -> None:
    services = dataclasses.replace(api.services, outbox=None)
    transport = httpx.ASGITransport(app=create_app(services))
    somebody = await api.person("sam", ["qa"])
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        response = await http.get("/notifications", headers=somebody)

    refusal(response, 503, "notifications.unavailable")
