"""The launch, growth and sunset routes: the dated GTM checklist shows owners and due dates,
goals, experiments and sunset plans go through the workflow, refusals keep their rule."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest_asyncio

from api.app import create_app
from api.services import ApiServices
from domain.identity import Actor
from playbooks import load_playbook_catalog
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from tests.api.conftest import ApiHarness, Clock
from tests.api.http_journey import People
from tests.domain.plans import PLANS
from workflows.product_client import ProductLifecycleClient

OWNER = Actor(subject="ada", display_name="Ada Lovelace", roles=("pm", "product-manager"))
GATEKEEPER = Actor(subject="grace", display_name="Grace Hopper", roles=("gatekeeper",))
STRANGER = Actor(subject="mallory", display_name="Mallory Nobody", roles=("legal",))


@pytest_asyncio.fixture(loop_scope="session")
async def plans_api(
    products: ProductLifecycleClient, app_pool: asyncpg.Pool, event_store: EventStore
) -> AsyncIterator[ApiHarness]:
    """The API with the plans playbook installed next to the default one."""
    clock = Clock()
    identity = IdentityStore(app_pool)
    services = ApiServices(
        products=products,
        events=event_store,
        identity=identity,
        projection=ProductProjection(app_pool, event_store),
        playbooks={**load_playbook_catalog(), PLANS.name: PLANS},
        audit_pool=app_pool,
        clock=clock,
        outbox=NotificationOutbox(app_pool),
    )
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        yield ApiHarness(http=http, identity=identity, clock=clock, services=services)


async def post(
    api: ApiHarness, people: People, actor: Actor, path: str, body: dict[str, Any]
) -> httpx.Response:
    return await api.http.post(path, json=body, headers=await people.headers(actor))


async def in_launch(api: ApiHarness, people: People, product_id: str) -> None:
    registered = await post(
        api, people, OWNER, "/products", {"id": product_id, "name": "Atlas", "playbook": "test"}
    )
    assert registered.status_code == 201, registered.text
    for _ in range(3):
        decided = await post(
            api,
            people,
            GATEKEEPER,
            f"/products/{product_id}/gate/decision",
            {"outcome": "go", "reason": "ready"},
        )
        assert decided.status_code == 200, decided.text


async def test_a_launch_shows_an_owned_dated_checklist_that_follows_the_launch_date(
    plans_api: ApiHarness, product_id: str
) -> None:
    people = People(plans_api)
    await in_launch(plans_api, people, product_id)
    owner = await people.headers(OWNER)

    before = (await plans_api.http.get(f"/products/{product_id}/plans", headers=owner)).json()
    launch_at = plans_api.clock.now + timedelta(days=60)
    moved = await post(
        plans_api,
        people,
        OWNER,
        f"/products/{product_id}/launch/date",
        {"launch_at": launch_at.isoformat()},
    )
    after = (await plans_api.http.get(f"/products/{product_id}/plans", headers=owner)).json()

    assert before["stage"] == "launch"
    assert [(i["item"], i["owner_role"], i["done"]) for i in before["launch"]["items"]] == [
        ("positioning", "pm", False),
        ("pricing", "finance", False),
        ("goals", "pm", False),
    ]
    assert moved.status_code == 200, moved.text
    assert [e["type"] for e in moved.json()["events"]] == ["LaunchPlanned"]
    due = [httpx_datetime(i["due_at"]) for i in after["launch"]["items"]]
    assert due == [
        launch_at - timedelta(days=14),
        launch_at - timedelta(days=7),
        launch_at,
    ]
    assert httpx_datetime(after["next_alarm"]) == launch_at - timedelta(days=14)


def httpx_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_goals_and_their_refusals_travel_through_the_api(
    plans_api: ApiHarness, product_id: str
) -> None:
    people = People(plans_api)
    await in_launch(plans_api, people, product_id)
    path = f"/products/{product_id}/launch/goals"
    due_by = (plans_api.clock.now + timedelta(days=90)).isoformat()

    tick_early = await post(
        plans_api, people, OWNER, f"/products/{product_id}/checklist/goals", {"action": "done"}
    )
    set_goal = await post(
        plans_api,
        people,
        OWNER,
        path,
        {"metric": "activation", "kind": "adoption", "target": 40, "due_by": due_by},
    )
    unknown = await post(
        plans_api,
        people,
        OWNER,
        path,
        {"metric": "downloads", "kind": "adoption", "target": 1, "due_by": due_by},
    )
    stranger = await post(
        plans_api,
        people,
        STRANGER,
        path,
        {"metric": "activation", "kind": "adoption", "target": 1, "due_by": due_by},
    )

    assert tick_early.status_code == 409
    assert tick_early.json()["error"]["rule"] == "gtm.launch_goals_missing"
    assert set_goal.status_code == 200, set_goal.text
    assert (unknown.status_code, unknown.json()["error"]["rule"]) == (422, "metric.unknown")
    assert (stranger.status_code, stranger.json()["error"]["rule"]) == (
        403,
        "launch_goal.not_product_owner",
    )
    plans = (
        await plans_api.http.get(
            f"/products/{product_id}/plans", headers=await people.headers(OWNER)
        )
    ).json()
    assert [(g["metric"], g["target"]) for g in plans["launch_goals"]] == [("activation", 40)]


async def in_maturity(api: ApiHarness, people: People, product_id: str) -> None:
    await in_launch(api, people, product_id)
    base = f"/products/{product_id}"
    due_by = (api.clock.now + timedelta(days=90)).isoformat()
    goal = {"metric": "activation", "kind": "adoption", "target": 40, "due_by": due_by}
    steps: list[tuple[Actor, str, dict[str, Any]]] = [
        (OWNER, f"{base}/launch/goals", goal),
        *[
            (OWNER, f"{base}/checklist/{item}", {"action": "done"})
            for item in ("positioning", "pricing", "goals")
        ],
        (GATEKEEPER, f"{base}/gate/decision", {"outcome": "go", "reason": "launched"}),
        (GATEKEEPER, f"{base}/gate/decision", {"outcome": "go", "reason": "mature"}),
    ]
    for actor, path, body in steps:
        response = await post(api, people, actor, path, body)
        assert response.status_code == 200, response.text


async def test_an_incomplete_sunset_plan_is_refused_naming_the_missing_parts(
    plans_api: ApiHarness, product_id: str
) -> None:
    people = People(plans_api)
    await in_maturity(plans_api, people, product_id)
    path = f"/products/{product_id}/sunset"
    end_of_life = (plans_api.clock.now + timedelta(days=120)).isoformat()

    incomplete = await post(plans_api, people, OWNER, path, {"reason": "superseded"})
    complete = await post(
        plans_api,
        people,
        OWNER,
        path,
        {
            "reason": "superseded",
            "end_of_life": end_of_life,
            "communication_plan": "email every admin",
            "transition_plan": "export to Atlas 2",
        },
    )
    experiment = await post(
        plans_api,
        people,
        OWNER,
        f"/products/{product_id}/experiments",
        {"hypothesis": "shorter signup", "variants": ["a", "b"], "result": "b wins"},
    )

    assert incomplete.status_code == 422, incomplete.text
    error = incomplete.json()["error"]
    assert error["rule"] == "sunset.plan_incomplete"
    assert error["message"].endswith(
        "is missing: end-of-life date, customer communication plan, migration/transition plan"
    )
    assert complete.status_code == 200, complete.text
    assert [e["type"] for e in complete.json()["events"]] == ["SunsetProposed"]
    assert experiment.status_code == 200, experiment.text
    plans = (
        await plans_api.http.get(
            f"/products/{product_id}/plans", headers=await people.headers(OWNER)
        )
    ).json()
    assert plans["sunset"]["transition_plan"] == "export to Atlas 2"
    assert [c["key"] for c in plans["sunset"]["communications"]] == [
        "announcement",
        "stakeholder-update",
    ]
    assert [e["hypothesis"] for e in plans["experiments"]] == ["shorter signup"]
