"""What the delegation store answers with and refuses with: the stored record and each refusal.

These are the names callers handle (the API maps every refusal to a response, and a record is
what it shows), so they live apart from the Postgres store that produces them; a refusal such
as ``DelegationOverlaps`` carries a record, so the two stay together. ``store.delegations``
re-exports all of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain.delegation import Delegation

__all__ = [
    "DelegateNotFound",
    "DelegationError",
    "DelegationInvalid",
    "DelegationNotFound",
    "DelegationOverlaps",
    "DelegationRecord",
    "DelegationRevokeForbidden",
    "DelegationState",
    "DelegationUserDisabled",
    "Party",
    "PrincipalNotFound",
    "RoleNotHeld",
]

DelegationState = Literal["scheduled", "active", "ended", "revoked"]
Party = Literal["principal", "delegate"]


class DelegationRecord(BaseModel):
    """A delegation as stored, with both people's printed names and its revocation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delegation_id: str
    principal: str
    principal_name: str
    delegate: str
    delegate_name: str
    role: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    def state_at(self, moment: datetime) -> DelegationState:
        """``revoked`` once revoked (at or before ``moment``), else by the period."""
        if self.revoked_at is not None and self.revoked_at <= moment:
            return "revoked"
        if moment < self.starts_at:
            return "scheduled"
        return "active" if moment < self.ends_at else "ended"

    def delegation(self) -> Delegation:
        """The domain's view, as handed to ``decide`` with a sign-off."""
        return Delegation(
            delegation_id=self.delegation_id,
            principal=self.principal,
            principal_name=self.principal_name,
            delegate=self.delegate,
            role=self.role,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            reason=self.reason,
        )


# -- errors -------------------------------------------------------------------------------------


class DelegationError(Exception):
    """Base class for every refusal of the delegation store."""


class DelegationInvalid(DelegationError, ValueError):
    """The request itself is wrong (bad period, bad role name, delegating to oneself).
    ``field`` names the input at fault: ``starts_at``, ``ends_at``, ``role``, ``delegate``,
    ``reason`` or ``now``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.message))


class _SubjectError(DelegationError):
    _text = "{party} {subject!r}"

    def __init__(self, subject: str, party: Party) -> None:
        super().__init__(self._text.format(subject=subject, party=party))
        self.subject = subject
        self.party: Party = party

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.subject, self.party))


class PrincipalNotFound(_SubjectError):
    """The person delegating has no user record (say, signed in through OIDC only)."""

    _text = "no user {subject!r}: only a registered user can delegate their role"


class DelegateNotFound(_SubjectError):
    _text = "no user {subject!r} to delegate to"


class DelegationUserDisabled(_SubjectError):
    _text = "user {subject!r} ({party}) is disabled"


class RoleNotHeld(DelegationError):
    def __init__(self, principal: str, role: str) -> None:
        super().__init__(f"{principal!r} does not hold role {role!r}, so cannot delegate it")
        self.principal = principal
        self.role = role

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.principal, self.role))


class DelegationOverlaps(DelegationError):
    """An unrevoked delegation of the same principal and role covers part of the period."""

    def __init__(self, existing: DelegationRecord) -> None:
        super().__init__(
            f"{existing.principal!r} already delegates role {existing.role!r} to "
            f"{existing.delegate!r} from {existing.starts_at.isoformat()} until "
            f"{existing.ends_at.isoformat()} (delegation {existing.delegation_id}); "
            "periods may not overlap: revoke that one first or choose another period"
        )
        self.existing = existing

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.existing,))


class DelegationNotFound(DelegationError):
    def __init__(self, delegation_id: str) -> None:
        super().__init__(f"no delegation {delegation_id!r}")
        self.delegation_id = delegation_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.delegation_id,))


class DelegationRevokeForbidden(DelegationError):
    def __init__(self, delegation_id: str, by: str, principal: str) -> None:
        super().__init__(
            f"{by!r} may not revoke delegation {delegation_id}: only its principal "
            f"({principal!r}) or an admin may"
        )
        self.delegation_id = delegation_id
        self.by = by
        self.principal = principal

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.delegation_id, self.by, self.principal))
