"""The product as a command finds it: registered, still active, working toward a gate."""

from collections.abc import Callable
from datetime import datetime

from domain.events import Event, GateReviewVoided
from domain.gate_evaluation import GateEvaluation, evaluate_gate, gate_state_hash
from domain.identity import Actor, attribution
from domain.playbook import Gate, Playbook
from domain.refusals import CommandRefused, RefusalKind
from domain.stages import Stage, next_stage
from domain.state import GateProgress, ProductState

NewId = Callable[[], str]


class CommandContext:
    """The product as a command finds it: registered, still active, working toward a gate."""

    def __init__(
        self,
        state: ProductState,
        actor: Actor,
        now: datetime,
        new_id: NewId,
        gate_name: Stage,
        gate: Gate,
        progress: GateProgress,
        playbook: Playbook,
    ) -> None:
        self.state, self.actor, self.now, self.new_id = state, actor, now, new_id
        self.gate_name, self.gate, self.progress, self.playbook = (
            gate_name,
            gate,
            progress,
            playbook,
        )

    @classmethod
    def of(
        cls, state: ProductState, actor: Actor, now: datetime, new_id: NewId
    ) -> "CommandContext":
        if not state.is_registered:
            raise CommandRefused(
                "product.not_registered", "product is not registered", RefusalKind.NOT_FOUND
            )
        gate = state.current_gate()
        if state.is_terminal or gate is None or state.progress is None:
            raise CommandRefused(
                "product.closed",
                f"product '{state.product_id}' is {state.stage}; it accepts no further commands",
            )
        assert state.playbook is not None
        assert state.stage is not None
        return cls(state, actor, now, new_id, state.stage, gate, state.progress, state.playbook)

    @property
    def product_id(self) -> str:
        assert self.state.product_id is not None
        return self.state.product_id

    def stamp(self, role: str | None = None, actor: Actor | None = None) -> dict[str, object]:
        """Fields every event carries: a fresh id, the product, workflow time and attribution."""
        return {
            "event_id": self.new_id(),
            "product_id": self.product_id,
            "occurred_at": self.now,
            "actor": attribution(actor or self.actor, role),
        }

    @property
    def leads_to(self) -> Stage:
        following = next_stage(self.gate_name)
        assert following is not None
        return following

    def evaluation(self) -> GateEvaluation:
        return evaluate_gate(self.gate_name, self.gate, self.progress, self.state)

    def is_owner(self) -> bool:
        return self.actor.subject == self.state.owner

    def require_active(self, doing: str) -> None:
        """While a product is on hold only Resume and Kill are accepted."""
        if self.state.on_hold:
            raise CommandRefused(
                "product.on_hold",
                f"product '{self.product_id}' is on hold ({self.state.hold_reason}); "
                f"resume it before {doing}",
            )

    def require_owner_or_decider(self, doing: str, rule: str) -> None:
        """The product owner or anyone who may decide the current gate."""
        deciders = self.gate.decider_roles
        if not (self.is_owner() or any(self.actor.holds(r) for r in deciders)):
            raise CommandRefused(
                rule,
                f"only the product owner ({self.state.owner_name}) or a decider "
                f"({', '.join(deciders)}) may {doing}; {self.actor.display_name} is neither",
                RefusalKind.FORBIDDEN,
            )

    def state_hash(self) -> str:
        return gate_state_hash(self.evaluation(), self.progress)

    def void_open_review(self, why: str) -> list[Event]:
        """A review round is about the facts it was asked on; when they change, its sign-offs
        no longer apply. The round closes (its sign-offs stay in the trail) and a new one must
        be requested."""
        review = self.progress.review
        if review is None or review.rejection() is not None:
            return []
        return [
            GateReviewVoided(**self.stamp(), gate=self.gate_name, round=review.round, reason=why)
        ]
