"""`lifecycle dev --demo`: a small portfolio a product organisation would recognise.

People in every role of the default playbook, products in several stages, and reviews waiting
for sign-off, so the first look at the product shows it working. Seeding is skipped for
products that already exist, so restarting with --demo only issues fresh tokens.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.commands import (
    Command,
    DecideGate,
    GateOutcome,
    RecordMetric,
    RegisterProduct,
    SubmitEvidence,
)
from domain.identity import Actor
from domain.playbook import Playbook
from domain.refusals import CommandRefused
from domain.state import ProductState
from runtime.gate_walk import criteria_commands, go_command, review_commands
from store.identity import IdentityStore
from workflows.product_client import ProductLifecycleClient

CAST: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ada", "Ada Park", ("product-manager",)),
    ("grace", "Grace Okafor", ("product-lead",)),
    ("katherine", "Katherine Silva", ("exec-sponsor",)),
    ("priya", "Priya Raman", ("engineering-lead",)),
    ("diego", "Diego Alvarez", ("design-lead",)),
    ("fatima", "Fatima Khan", ("privacy-officer",)),
    ("noah", "Noah Lindqvist", ("ai-ethics-reviewer",)),
    ("mia", "Mia Rossi", ("product-marketing",)),
    ("sam", "Sam Mensah", ("sales-lead",)),
    ("lena", "Lena Berg", ("customer-success",)),
    ("omar", "Omar Haddad", ("finance",)),
)


@dataclass(frozen=True)
class DemoProduct:
    product_id: str
    name: str
    description: str
    gates_passed: int  # how many gates it has already passed
    # "partial" evidence; "review" requested; "last-signature" review signed by all but the
    # product lead, so one approval passes the gate; or "killed"
    then: str


PORTFOLIO = (
    DemoProduct("atlas-search", "Atlas Search", "Search across team documents", 0, "partial"),
    DemoProduct(
        "beacon-insights", "Beacon Insights", "Self-serve product analytics", 1, "last-signature"
    ),
    DemoProduct("comet-mobile", "Comet Mobile", "The mobile companion app", 3, "review"),
    DemoProduct("delta-billing", "Delta Billing", "Usage-based billing", 4, "partial"),
    DemoProduct("echo-classic", "Echo Classic", "The first-generation editor", 6, "partial"),
    DemoProduct("flux-assistant", "Flux Assistant", "An AI writing assistant", 2, "killed"),
)


@dataclass(frozen=True)
class DemoPerson:
    actor: Actor
    token: str


class DemoPortfolio:
    def __init__(self, identity: IdentityStore, products: ProductLifecycleClient) -> None:
        self._identity, self._products = identity, products
        self._people: dict[str, Actor] = {}

    async def seed(self, playbook: Playbook, now: datetime) -> list[DemoPerson]:
        people = await self._cast(now)
        for product in PORTFOLIO:
            await self._product(product, playbook)
        return people

    async def _cast(self, now: datetime) -> list[DemoPerson]:
        people = []
        for subject, name, roles in CAST:
            if await self._identity.get_user(subject) is None:
                await self._identity.add_user(subject, name, roles)
            issued = await self._identity.create_token(
                subject, label="demo", expires_at=now + timedelta(days=30), now=now
            )
            actor = Actor(subject=subject, display_name=name, roles=roles)
            self._people.update({role: actor for role in roles})
            people.append(DemoPerson(actor=actor, token=issued.token))
        return people

    def _in_role(self, role: str, _number: int = 1) -> Actor:
        return self._people[role]

    async def _product(self, product: DemoProduct, playbook: Playbook) -> None:
        owner = self._people["product-manager"]
        try:
            await self._products.register(
                RegisterProduct(
                    actor=owner,
                    product_id=product.product_id,
                    name=product.name,
                    description=product.description,
                    owner=owner.subject,
                    owner_name=owner.display_name,
                    playbook=playbook,
                )
            )
        except CommandRefused as refusal:
            if refusal.rule == "product.already_registered":
                return  # seeded on an earlier run
            raise
        for _ in range(product.gates_passed):
            state = await self._state(product.product_id)
            await self._send(
                product.product_id,
                criteria_commands(state, owner)
                + review_commands(state, owner, self._in_role)
                + go_command(state, self._in_role),
            )
        state = await self._state(product.product_id)
        criteria = criteria_commands(state, owner)
        if product.then == "partial":
            await self._send(product.product_id, _roughly_half(criteria))
        elif product.then in ("review", "last-signature"):
            await self._send(product.product_id, criteria)
            review = review_commands(state, owner, self._in_role)
            signatures = review[1:] if product.then == "last-signature" else []
            waiting_on_lead = [c for c in signatures if not c.actor.holds("product-lead")]
            await self._send(product.product_id, review[:1] + waiting_on_lead)
        else:
            gate = state.current_gate()
            assert gate is not None
            decider = self._people[gate.decider_roles[0]]
            reason = "Bias review found the model unsafe for customers; stopped before launch"
            await self._send(
                product.product_id,
                [DecideGate(actor=decider, outcome=GateOutcome.KILL, reason=reason)],
            )

    async def _state(self, product_id: str) -> ProductState:
        return (await self._products.view(product_id)).state

    async def _send(self, product_id: str, commands: list[Command]) -> None:
        for command in commands:
            await self._products.execute(product_id, command)


def _roughly_half(commands: list[Command]) -> list[Command]:
    """Some evidence logged and some metrics in, so the gate shows progress and gaps."""
    evidence = [c for c in commands if isinstance(c, SubmitEvidence)]
    metrics = [c for c in commands if isinstance(c, RecordMetric)]
    chosen: list[Command] = list(evidence[: max(1, len(evidence) // 2)])
    chosen += [m.model_copy(update={"value": m.value * 0.8}) for m in metrics[:1]]
    return chosen
