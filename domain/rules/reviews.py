"""Gate reviews: asking the approvers, and their sign-offs."""

from domain.command_context import CommandContext
from domain.commands import (
    GiveSignOff,
    RequestGateReview,
    Verdict,
)
from domain.events import (
    Event,
    GateReviewRequested,
    SignOffGiven,
)
from domain.refusals import CommandRefused, RefusalKind


def request_review(context: CommandContext, command: RequestGateReview) -> list[Event]:
    if not context.is_owner():
        raise CommandRefused(
            "review.not_product_owner",
            f"only the product owner ({context.state.owner_name}) may request a review of gate "
            f"'{context.gate_name}'",
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
    return [
        GateReviewRequested(
            **context.stamp(),
            gate=context.gate_name,
            round=context.progress.rounds + 1,
            note=command.note,
        )
    ]


def give_sign_off(context: CommandContext, command: GiveSignOff) -> list[Event]:
    review = context.progress.review
    if review is None:
        raise CommandRefused(
            "signoff.no_open_review",
            f"gate '{context.gate_name}' has no open review; the product owner requests one first",
        )
    requirement = context.gate.sign_off_requirement(command.role)
    if requirement is None:
        asked = ", ".join(s.role for s in context.gate.sign_offs)
        raise CommandRefused(
            "signoff.role_not_required",
            f"gate '{context.gate_name}' asks no sign-off from role '{command.role}'; "
            f"it asks: {asked}",
            RefusalKind.INVALID,
        )
    if not context.actor.holds(command.role):
        raise CommandRefused(
            "signoff.role_not_held",
            f"{context.actor.display_name} does not hold role '{command.role}'",
            RefusalKind.FORBIDDEN,
        )
    if review.requested_by.subject == context.actor.subject:
        raise CommandRefused(
            "signoff.self_approval",
            f"{context.actor.display_name} requested this review of gate '{context.gate_name}' and "
            "may not sign it",
            RefusalKind.FORBIDDEN,
        )
    if review.has_signed(context.actor.subject):
        raise CommandRefused(
            "signoff.duplicate_vote",
            f"{context.actor.display_name} already signed review round {review.round} of gate "
            f"'{context.gate_name}'; one vote per person",
        )
    rejection = review.rejection()
    if rejection is not None:
        raise CommandRefused(
            "signoff.round_rejected",
            f"review round {review.round} of gate '{context.gate_name}' was rejected by "
            f"{rejection.signer.display_name}; a new review must be requested",
        )
    if command.verdict is Verdict.REJECT and not command.reason:
        raise CommandRefused(
            "signoff.reason_required",
            f"rejecting gate '{context.gate_name}' needs a reason",
            RefusalKind.INVALID,
        )
    return [
        SignOffGiven(
            **context.stamp(command.role),
            gate=context.gate_name,
            round=review.round,
            verdict=command.verdict,
            reason=command.reason,
            playbook_version=context.playbook.version,
        )
    ]
