"""Moving a product to a newer version of its playbook.

A product keeps the playbook version it entered its current stage with, so the people working
toward a gate are never judged by criteria that changed under them. A newer version is adopted
at the next stage entry, or now through an explicit migration: a decision in its own right,
taken by a gatekeeper of the current gate with a reason, that closes any open review round
(its sign-offs were given on the old criteria) and records which criteria it changed.
"""

from domain.command_context import CommandContext
from domain.commands import AdoptPlaybook
from domain.events import Event, PlaybookAdopted, PlaybookAdoptionScheduled
from domain.playbook_changes import criteria_changes
from domain.refusals import CommandRefused, RefusalKind
from domain.state import ProductState


def adopt_playbook(context: CommandContext, command: AdoptPlaybook) -> list[Event]:
    current, offered = context.playbook, command.playbook
    if offered.name != current.name:
        raise CommandRefused(
            "playbook.other_playbook",
            f"product '{context.product_id}' runs playbook '{current.name}'; "
            f"'{offered.name}' is another playbook, not a version of it",
        )
    pending = context.state.pending_playbook
    newest = max(current.version, pending.version if pending else 0)
    if offered.version <= newest:
        held = (
            "waits for the next stage" if pending and newest == pending.version else "is in force"
        )
        raise CommandRefused(
            "playbook.not_newer",
            f"playbook '{offered.name}' version {offered.version} is not newer than version "
            f"{newest}, which {held} for product '{context.product_id}'",
            RefusalKind.CONFLICT,
        )
    if not set(context.actor.roles) & set(context.gate.decider_roles):
        raise CommandRefused(
            "playbook.not_a_gatekeeper",
            f"{context.actor.subject} may not move product '{context.product_id}' to another "
            f"playbook version: only the {context.gate_name} gate's deciders "
            f"({', '.join(context.gate.decider_roles)}) may",
            RefusalKind.FORBIDDEN,
        )
    fingerprint = offered.fingerprint()
    if command.effective == "next_stage":
        return [
            PlaybookAdoptionScheduled(
                **context.stamp(),
                playbook=offered,
                playbook_fingerprint=fingerprint,
                from_version=current.version,
                reason=command.reason,
            )
        ]
    voided = context.void_open_review(
        f"playbook '{offered.name}' migrated to version {offered.version}: {command.reason}"
    )
    return [
        *voided,
        PlaybookAdopted(
            **context.stamp(),
            playbook=offered,
            playbook_fingerprint=fingerprint,
            from_version=current.version,
            effective="now",
            reason=command.reason,
            changes=criteria_changes(context.state, offered),
        ),
    ]


def adopt_on_stage_entry(
    before: ProductState, after: ProductState, stamp: dict[str, object]
) -> list[Event]:
    """The scheduled version takes over as the product enters a new (non-terminal) stage."""
    pending = after.pending_playbook
    if pending is None or after.stage == before.stage or after.is_terminal:
        return []
    assert after.playbook is not None
    return [
        PlaybookAdopted(
            **stamp,
            playbook=pending,
            playbook_fingerprint=pending.fingerprint(),
            from_version=after.playbook.version,
            effective="stage_entry",
            reason=f"scheduled adoption on entering {after.stage}",
            changes=criteria_changes(after, pending),
        )
    ]
