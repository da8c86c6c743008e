"""Steps the CLI tests share: people with tokens, and the journey's domain commands spelled as
`lifecycle` command lines, each run with its actor's token."""

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
            return [
                *("gate", "signoff", product_id, "--verdict", command.verdict.value),
                *("--role", command.role, "--reason", command.reason),
            ]
        case DecideGate():
            return ["gate", "decide", product_id, command.outcome.value, "--reason", command.reason]
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
