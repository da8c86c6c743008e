"""Gate reviews: asking the approvers, their sign-offs, and the review's deadline.

Segregation of duties: the person who requested a review never signs it, not even through a
delegation; when the playbook says so the product owner does not sign either. One vote per
person, whatever roles they hold; a delegate's vote is the absent person's vote.
"""

from domain.command_context import CommandContext
from domain.commands import (
    EnforceReviewDeadline,
    GiveSignOff,
    RemindApprovers,
    RequestGateReview,
    RevokeSignOff,
    Verdict,
)
from domain.delegation import Delegation
from domain.events import (
    ApproversReminded,
    Event,
    GateReviewRequested,
    ReviewEscalated,
    ReviewTimedOut,
    SignOffGiven,
    SignOffRevoked,
)
from domain.identity import ActorRef
from domain.refusals import CommandRefused, RefusalKind
from domain.state import GateReview


def request_review(context: CommandContext, command: RequestGateReview) -> list[Event]:
    context.require_active("requesting a review")
    deciders = context.gate.decider_roles
    if not (context.is_owner() or any(context.actor.holds(r) for r in deciders)):
        raise CommandRefused(
            "review.not_product_owner",
            f"only the product owner ({context.state.owner_name}) or a decider "
            f"({', '.join(deciders)}) may request a review of gate '{context.gate_name}'",
            RefusalKind.FORBIDDEN,
        )
    if not context.gate.sign_offs:
        raise CommandRefused(
            "review.not_needed",
            f"gate '{context.gate_name}' needs no sign-offs; a gatekeeper decides it directly",
        )
    review = context.progress.review
    if review is not None and review.rejection() is None:
        raise CommandRefused(
            "review.already_open",
            f"review round {review.round} of gate '{context.gate_name}' is already open",
        )
    unmet = context.evaluation().unmet(ignore_sign_offs=True)
    if unmet:
        raise CommandRefused(
            "review.criteria_unmet",
            f"gate '{context.gate_name}' is not ready for review; {len(unmet)} criteria unmet: "
            + "; ".join(f"{c.title}: {c.reason}" for c in unmet),
        )
    sla = context.gate.review.sla
    return [
        GateReviewRequested(
            **context.stamp(),
            gate=context.gate_name,
            round=context.state.review_rounds.get(context.gate_name, 0) + 1,
            note=command.note,
            due_at=context.now + sla if sla is not None else None,
        )
    ]


def _open_review(context: CommandContext, doing: str) -> GateReview:
    review = context.progress.review
    if review is None:
        raise CommandRefused(
            "signoff.no_open_review",
            f"gate '{context.gate_name}' has no open review; the product owner requests one first",
        )
    rejection = review.rejection()
    if rejection is not None:
        raise CommandRefused(
            "signoff.round_rejected",
            f"review round {review.round} of gate '{context.gate_name}' was rejected by "
            f"{rejection.signer.display_name}; a new review must be requested before {doing}",
        )
    return review


def give_sign_off(context: CommandContext, command: GiveSignOff) -> list[Event]:
    context.require_active("signing")
    review = _open_review(context, "signing")
    requirement = context.gate.sign_off_requirement(command.role)
    if requirement is None:
        asked = ", ".join(s.role for s in context.gate.sign_offs)
        raise CommandRefused(
            "signoff.role_not_required",
            f"gate '{context.gate_name}' asks no sign-off from role '{command.role}'; "
            f"it asks: {asked}",
            RefusalKind.INVALID,
        )
    principal = _principal(context, command, review)
    voter = principal.subject if principal else context.actor.subject
    _check_segregation(context, review, voter)
    earlier = review.signature_of(voter)
    if earlier is not None:
        whose = principal.display_name if principal else context.actor.display_name
        raise CommandRefused(
            "signoff.duplicate_vote",
            f"{whose} already signed review round {review.round} of gate "
            f"'{context.gate_name}' ({earlier.verdict.value} as {earlier.signer.role}); "
            "one vote per person",
        )
    if command.verdict is Verdict.REJECT and not command.reason:
        raise CommandRefused(
            "signoff.reason_required",
            f"rejecting gate '{context.gate_name}' needs a reason",
            RefusalKind.INVALID,
        )
    delegation = command.delegation
    return [
        SignOffGiven(
            **context.stamp(command.role),
            gate=context.gate_name,
            round=review.round,
            verdict=command.verdict,
            reason=command.reason,
            playbook_version=context.playbook.version,
            on_behalf_of=principal,
            delegation_id=delegation.delegation_id if delegation else None,
            gate_state_hash=context.state_hash(),
        )
    ]


def _principal(
    context: CommandContext, command: GiveSignOff, review: GateReview
) -> ActorRef | None:
    """The absent person a delegate signs for, once the delegation is shown to cover it."""
    delegation: Delegation | None = command.delegation
    if delegation is None:
        if not context.actor.holds(command.role):
            raise CommandRefused(
                "signoff.role_not_held",
                f"{context.actor.display_name} does not hold role '{command.role}'",
                RefusalKind.FORBIDDEN,
            )
        return None
    if delegation.delegate != context.actor.subject:
        raise CommandRefused(
            "signoff.delegation_not_yours",
            f"delegation {delegation.delegation_id} is to {delegation.delegate}, "
            f"not {context.actor.display_name}",
            RefusalKind.FORBIDDEN,
        )
    if delegation.role != command.role:
        raise CommandRefused(
            "signoff.delegation_role",
            f"delegation {delegation.delegation_id} covers role '{delegation.role}', "
            f"not '{command.role}'",
            RefusalKind.FORBIDDEN,
        )
    if not delegation.covers(context.now):
        raise CommandRefused(
            "signoff.delegation_inactive",
            f"delegation {delegation.delegation_id} from {delegation.principal_name} runs "
            f"{delegation.starts_at.isoformat()} to {delegation.ends_at.isoformat()}; "
            "it does not cover now",
            RefusalKind.FORBIDDEN,
        )
    if review.requested_by.subject == context.actor.subject:
        raise CommandRefused(
            "signoff.self_approval",
            f"{context.actor.display_name} requested this review of gate "
            f"'{context.gate_name}' and may not sign it, not even for someone else",
            RefusalKind.FORBIDDEN,
        )
    return ActorRef(
        subject=delegation.principal, display_name=delegation.principal_name, role=command.role
    )


def _check_segregation(context: CommandContext, review: GateReview, voter: str) -> None:
    if review.requested_by.subject in (voter, context.actor.subject):
        raise CommandRefused(
            "signoff.self_approval",
            f"{review.requested_by.display_name} requested this review of gate "
            f"'{context.gate_name}' and may not sign it",
            RefusalKind.FORBIDDEN,
        )
    if not context.gate.review.owner_may_sign and context.state.owner in (
        voter,
        context.actor.subject,
    ):
        raise CommandRefused(
            "signoff.owner_excluded",
            f"the playbook excludes the product owner ({context.state.owner_name}) from "
            f"signing gate '{context.gate_name}'",
            RefusalKind.FORBIDDEN,
        )


def revoke_sign_off(context: CommandContext, command: RevokeSignOff) -> list[Event]:
    context.require_active("revoking a sign-off")
    review = _open_review(context, "revoking")
    mine = [s for s in review.sign_offs if s.signer.subject == context.actor.subject]
    if not mine:
        raise CommandRefused(
            "signoff.nothing_to_revoke",
            f"{context.actor.display_name} has no sign-off in review round {review.round} of "
            f"gate '{context.gate_name}'",
        )
    if not command.reason:
        raise CommandRefused(
            "signoff.reason_required",
            "revoking a sign-off needs a reason",
            RefusalKind.INVALID,
        )
    return [
        SignOffRevoked(
            **context.stamp(mine[0].signer.role),
            gate=context.gate_name,
            round=review.round,
            voter=signature.voter,
            reason=command.reason,
        )
        for signature in mine
    ]


def waiting_roles(context: CommandContext, review: GateReview) -> tuple[str, ...]:
    """Required roles whose quorum is not met yet."""
    return tuple(
        r.role
        for r in context.gate.sign_offs
        if not r.optional and len(review.approvals_in(r.role)) < r.min_approvals
    )


def _review_in_play(context: CommandContext) -> GateReview | None:
    """The review the timers act on; None when there is nothing to chase (no open round, a
    rejected or timed-out one, a product on hold): timer commands then change nothing."""
    review = context.progress.review
    if review is None or review.rejection() is not None or review.timed_out is not None:
        return None
    if context.state.on_hold or not waiting_roles(context, review):
        return None
    return review


def remind_approvers(context: CommandContext, command: RemindApprovers) -> list[Event]:
    review = _review_in_play(context)
    interval = context.gate.review.remind_every
    if review is None or interval is None:
        return []
    if review.due_at is not None and context.now >= review.due_at:
        return []
    if context.now < review.requested_at + interval * (review.reminders + 1):
        return []
    return [
        ApproversReminded(
            **context.stamp(),
            gate=context.gate_name,
            round=review.round,
            waiting_roles=waiting_roles(context, review),
            reminder=review.reminders + 1,
        )
    ]


def enforce_deadline(context: CommandContext, command: EnforceReviewDeadline) -> list[Event]:
    review = _review_in_play(context)
    if review is None or review.due_at is None or context.now < review.due_at:
        return []
    policy = context.gate.review
    events: list[Event] = []
    if policy.escalate_to is not None:
        events.append(
            ReviewEscalated(
                **context.stamp(),
                gate=context.gate_name,
                round=review.round,
                to_role=policy.escalate_to,
                waiting_roles=waiting_roles(context, review),
            )
        )
    events.append(
        ReviewTimedOut(
            **context.stamp(),
            gate=context.gate_name,
            round=review.round,
            outcome=policy.on_timeout,
            due_at=review.due_at,
        )
    )
    return events
