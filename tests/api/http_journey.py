"""Sends the journey's domain commands as HTTP requests, each signed in as its actor."""

from typing import Any

import httpx

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GiveSignOff,
    RecordMetric,
    RequestGateReview,
    SubmitEvidence,
)
from domain.identity import Actor
from tests.api.conftest import ApiHarness


class People:
    """Creates a user with a token the first time an actor is seen."""

    def __init__(self, api: ApiHarness) -> None:
        self._api = api
        self._headers: dict[str, dict[str, str]] = {}

    async def headers(self, actor: Actor) -> dict[str, str]:
        if actor.subject not in self._headers:
            self._headers[actor.subject] = await self._api.person(
                actor.subject, actor.roles, actor.display_name
            )
        return self._headers[actor.subject]


def request_for(product_id: str, command: Command) -> tuple[str, dict[str, Any]]:
    base = f"/products/{product_id}"
    match command:
        case SubmitEvidence():
            return f"{base}/evidence", {
                "requirement": command.requirement,
                "title": command.title,
                "uri": command.uri,
            }
        case CompleteChecklistItem():
            return f"{base}/checklist/{command.item}", {"action": "done", "note": command.note}
        case RecordMetric():
            return f"{base}/metrics", {
                "metric": command.metric,
                "value": command.value,
                "source": command.source,
            }
        case RequestGateReview():
            return f"{base}/gate/review", {"note": command.note}
        case GiveSignOff():
            return f"{base}/gate/signoffs", {
                "role": command.role,
                "verdict": command.verdict.value,
                "reason": command.reason,
            }
        case DecideGate():
            return f"{base}/gate/decision", {
                "outcome": command.outcome.value,
                "reason": command.reason,
            }
    raise AssertionError(f"no HTTP route for {command.type}")


async def send(
    http: httpx.AsyncClient, people: People, product_id: str, command: Command
) -> httpx.Response:
    path, body = request_for(product_id, command)
    return await http.post(path, json=body, headers=await people.headers(command.actor))
