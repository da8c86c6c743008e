"""An event the read model cannot fold stops it; the API says so with a 503 naming the event,
instead of failing every portfolio request with a 500."""

from datetime import UTC, datetime
from uuid import uuid4

from store.event_store import EventStore
from store.events import NewEvent
from tests.api.conftest import ApiHarness


async def test_the_portfolio_answers_503_naming_the_event_the_read_model_stopped_at(
    api: ApiHarness, event_store: EventStore
) -> None:
    poison = NewEvent(
        event_id=uuid4(),
        type="StageEntered",
        schema_version=1,
        data={"type": "StageEntered", "product_id": "ghost"},
        recorded_at=datetime.now(UTC),
    )
    await event_store.append("product-ghost", 0, [poison])
    auditor = await api.person("audrey", ["auditor"])

    response = await api.http.get("/products", headers=auditor)

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["rule"] == "projection.stalled"
    assert "event 1" in error["message"]
    assert "product-ghost" in error["message"]
    assert response.headers["Retry-After"] == "60"
