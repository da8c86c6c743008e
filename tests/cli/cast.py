"""Steps the CLI tests share: people with tokens, and the journey's domain commands spelled as
`lifecycle` command lines, each run with its actor's token; and ways to read what it prints."""

from datetime import UTC, datetime
from typing import Any

from domain.commands import (
    Command,
    CompleteChecklistItem,
    DecideGate,
    GiveSignOff,
    MeetCondition,
    RecordMetric,
    RequestGateReview,
    RevokeSignOff,
    SubmitEvidence,
)
from domain.identity import Actor
from tests.cli.conftest import Cli, LiveApi, Run
from tests.support.journey import OWNER

DISCOVERY_EVIDENCE = {
    "problem-statement": 1,
    "customer-interview": 5,
    "market-sizing": 1,
    "competitive-analysis": 1,
}


class People:
    """A CLI signed in as each actor; the user and token are created the first time."""

    def __init__(self, api: LiveApi) -> None:
        self._api = api
        self._clis: dict[str, Cli] = {}

    async def cli(self, actor: Actor) -> Cli:
        if actor.subject not in self._clis:
            token = await self._api.token_for(actor.subject, actor.roles, actor.display_name)
            self._clis[actor.subject] = self._api.as_(token)
        return self._clis[actor.subject]

    async def owner(self) -> Cli:
        return await self.cli(OWNER)


def args_for(product_id: str, command: Command) -> list[str]:
    match command:
        case SubmitEvidence():
            return [
                *("evidence", "add", product_id, command.requirement),
                *("--title", command.title, "--uri", command.uri),
            ]
        case CompleteChecklistItem():
            return ["checklist", "done", product_id, command.item, "--note", command.note]
        case RecordMetric():
            return [
                *("metric", "record", product_id, command.metric, repr(command.value)),
                *("--source", command.source),
            ]
        case RequestGateReview():
            return ["gate", "review", product_id, "--note", command.note]
        case GiveSignOff():
            args = [
                *("gate", "signoff", product_id, "--verdict", command.verdict.value),
                *("--role", command.role, "--reason", command.reason),
            ]
            if command.delegation is not None:
                args += ["--on-behalf-of", command.delegation.principal]
            return args
        case RevokeSignOff():
            return ["gate", "revoke", product_id, "--reason", command.reason]
        case MeetCondition():
            return ["condition", "meet", product_id, command.condition_id, "--note", command.note]
        case DecideGate():
            outcome = command.outcome.value.replace("_", "-")
            args = ["gate", "decide", product_id, outcome, "--reason", command.reason]
            for condition in command.conditions:
                args += ["--condition", condition]
            if command.recycle_to is not None:
                args += ["--to", command.recycle_to.value]
            return args
    raise AssertionError(f"no CLI command for {command.type}")


async def run(people: People, product_id: str, command: Command) -> Run:
    cli = await people.cli(command.actor)
    return (await cli(*args_for(product_id, command))).ok()


async def register(people: People, product_id: str, name: str = "Atlas Search") -> Run:
    owner = await people.owner()
    return (await owner("product", "create", product_id, "--name", name)).ok()


async def add_evidence(cli: Cli, product_id: str, needed: dict[str, int]) -> None:
    for requirement, count in needed.items():
        for n in range(1, count + 1):
            (
                await cli(
                    *("evidence", "add", product_id, requirement),
                    *("--title", f"{requirement} #{n}"),
                    *("--uri", f"https://docs.example.com/{requirement}/{n}"),
                )
            ).ok()


async def meet_discovery_criteria(people: People, product_id: str) -> Cli:
    """Everything the discovery gate asks but the sign-off; returns the owner's CLI."""
    owner = await people.owner()
    await add_evidence(owner, product_id, DISCOVERY_EVIDENCE)
    (await owner("checklist", "done", product_id, "personas-drafted")).ok()
    return owner


async def in_discovery_review(people: People, product_id: str) -> Cli:
    """Registered, discovery's criteria met, a review requested; returns the owner's CLI."""
    await register(people, product_id)
    owner = await meet_discovery_criteria(people, product_id)
    (await owner("gate", "review", product_id, "--note", "ready")).ok()
    return owner


async def detail(cli: Cli, product_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = (await cli("-o", "json", "product", "show", product_id)).ok().json()
    return shown


def utc_minute(value: str) -> str:
    """An API timestamp as the CLI prints it."""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def line_with(output: str, *parts: str) -> str:
    """The one line of `output` that holds every part."""
    lines = [line.rstrip() for line in output.splitlines() if all(p in line for p in parts)]
    assert len(lines) == 1, f"{parts!r} in {len(lines)} lines of:\n{output}"
    return lines[0]
