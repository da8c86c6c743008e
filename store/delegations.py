"""Out-of-office delegations, kept in Postgres beside the users who give and receive them.

A person (the *principal*) who holds a role lets another person (the *delegate*) sign in that
role on their behalf for a period ``[starts_at, ends_at)``: the start is included, the end is
not, exactly like ``domain.delegation.Delegation.covers``. At sign-off time the API asks
``active_for`` and hands the answer to the domain, which records both people on the sign-off
and refuses a delegation used to approve one's own request.

The rules this store enforces:

* granting: the principal exists, is enabled and holds the role *now* (their row is locked
  for the transaction, so two grants by one person are serialised); the delegate exists, is
  enabled and is someone else; the period ends after it starts, ends in the future and does
  not start in the past (a back-dated delegation would describe authority nobody had); and no
  unrevoked delegation of the same principal and role to *anyone* overlaps it. The exclusion
  constraint of migration 0005 backs the last rule for every writer.
* revoking: the store takes the rule, not the API. ``revoke(..., by=, by_admin=)`` lets the
  principal or an admin revoke; anybody else is refused with ``DelegationRevokeForbidden``.
  Revoking again is harmless and keeps the first revocation (time and person).
* looking up: ``active_for`` answers for one moment. A delegation confers nothing while its
  principal no longer holds the role or is disabled, or while its delegate is disabled, so
  taking a role away from someone also ends what they delegated.

Clocks are the caller's (``now=``, ``at=``), as in ``store.identity``. Nothing is deleted.

The record and the refusals callers handle live in ``store.delegation_records``; they are
re-exported here so that callers need only this module.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime

import asyncpg

from domain.delegation import Delegation
from store.delegation_records import (
    DelegateNotFound,
    DelegationError,
    DelegationInvalid,
    DelegationNotFound,
    DelegationOverlaps,
    DelegationRecord,
    DelegationRevokeForbidden,
    DelegationState,
    DelegationUserDisabled,
    PrincipalNotFound,
    RoleNotHeld,
)

__all__ = [
    "DelegateNotFound",
    "DelegationError",
    "DelegationInvalid",
    "DelegationNotFound",
    "DelegationOverlaps",
    "DelegationRecord",
    "DelegationRevokeForbidden",
    "DelegationState",
    "DelegationStore",
    "DelegationUserDisabled",
    "PrincipalNotFound",
    "RoleNotHeld",
]

DELEGATION_ID_LENGTH = 12
_ID_ALPHABET = string.ascii_lowercase + string.digits
_DELEGATION_ID = re.compile(r"[a-z0-9]{12}")
_ROLE = re.compile(r"[a-z][a-z0-9-]{0,47}")
_MAX_SUBJECT = 128
_MAX_REASON = 2000


# -- validation ---------------------------------------------------------------------------------


def _utc(field: str, value: datetime) -> datetime:
    """``value`` in UTC; refuses naive datetimes and ones that leave the representable range
    once moved to UTC (year 1 at +01:00), which asyncpg could not send."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise DelegationInvalid(field, f"{field} must be a timezone-aware date and time")
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise DelegationInvalid(
            field, f"{field} {value.isoformat()} is outside the range of dates that can be stored"
        ) from None


def _plausible_subject(subject: str) -> bool:
    """Whether ``subject`` could name a user (see ``store.users._could_exist``)."""
    return (
        isinstance(subject, str)
        and 1 <= len(subject) <= _MAX_SUBJECT
        and subject == subject.strip()
        and subject.isprintable()
    )


def _check_role(role: str) -> None:
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise DelegationInvalid(
            "role",
            f"role {role!r:.80} is not valid: use 1 to 48 characters, lowercase letters, "
            "digits and '-', starting with a letter",
        )


def _check_reason(reason: str) -> str:
    if not isinstance(reason, str):
        raise DelegationInvalid("reason", "reason must be text")
    reason = reason.strip()
    if len(reason) > _MAX_REASON:
        raise DelegationInvalid(
            "reason", f"reason must be at most {_MAX_REASON} characters, not {len(reason)}"
        )
    if "\x00" in reason or any(0xD800 <= ord(c) <= 0xDFFF for c in reason):
        raise DelegationInvalid("reason", "reason must not contain NUL or unpaired surrogates")
    return reason


def _check_period(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= now:
        raise DelegationInvalid(
            "ends_at",
            f"ends_at {ends_at.isoformat()} must be later than now ({now.isoformat()})",
        )
    if starts_at < now:
        raise DelegationInvalid(
            "starts_at",
            f"starts_at {starts_at.isoformat()} is in the past (now is {now.isoformat()}); "
            "a delegation cannot be back-dated: leave the start out to begin now",
        )
    if ends_at <= starts_at:
        raise DelegationInvalid(
            "ends_at",
            f"ends_at {ends_at.isoformat()} must be later than starts_at {starts_at.isoformat()}",
        )


def _new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(DELEGATION_ID_LENGTH))


# -- SQL ----------------------------------------------------------------------------------------

_COLUMNS = """
    d.delegation_id, d.principal, p.display_name AS principal_name, d.delegate,
    u.display_name AS delegate_name, d.role, d.starts_at, d.ends_at, d.reason, d.created_at,
    d.revoked_at, d.revoked_by
"""
_FROM = """
  FROM public.delegations d
  JOIN public.users p ON p.subject = d.principal
  JOIN public.users u ON u.subject = d.delegate
"""
# The principal's row is locked for the whole grant: two grants by one person run one after
# the other, so the overlap check below cannot miss a concurrent one. NO KEY UPDATE still lets
# other transactions insert rows that reference the user (tokens, delegations to them).
_LOCK_PRINCIPAL = """
SELECT display_name, roles, disabled FROM public.users WHERE subject = $1 FOR NO KEY UPDATE
"""
# FOR SHARE: the delegate cannot be disabled half way through the grant.
_LOCK_DELEGATE = "SELECT disabled FROM public.users WHERE subject = $1 FOR SHARE"
_OVERLAPPING = f"""
SELECT {_COLUMNS} {_FROM}
 WHERE d.principal = $1 AND d.role = $2 AND d.revoked_at IS NULL
   AND d.starts_at < $4 AND d.ends_at > $3
 ORDER BY d.starts_at, d.delegation_id
 LIMIT 1
"""
_INSERT = """
INSERT INTO public.delegations
       (delegation_id, principal, delegate, role, starts_at, ends_at, reason, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (delegation_id) DO NOTHING
RETURNING delegation_id
"""
_GET = f"SELECT {_COLUMNS} {_FROM} WHERE d.delegation_id = $1"
_LOCK_ONE = "SELECT principal FROM public.delegations WHERE delegation_id = $1 FOR UPDATE"
_REVOKE = """
UPDATE public.delegations SET revoked_at = $2, revoked_by = $3
 WHERE delegation_id = $1 AND revoked_at IS NULL
"""
# Active at $2: in its period, not revoked by then, the principal still holding the role and
# both people enabled. The (delegate, role, starts_at) index finds the candidates.
_ACTIVE_WHERE = """
   AND d.starts_at <= $2 AND d.ends_at > $2
   AND (d.revoked_at IS NULL OR d.revoked_at > $2)
   AND d.role = ANY(p.roles) AND NOT p.disabled AND NOT u.disabled
"""
_ACTIVE_FOR = f"""
SELECT {_COLUMNS} {_FROM}
 WHERE d.delegate = $1 AND d.principal = $3 AND d.role = $4 {_ACTIVE_WHERE}
 ORDER BY d.starts_at, d.delegation_id
 LIMIT 1
"""
_ACTIVE_RECEIVED = f"""
SELECT {_COLUMNS} {_FROM}
 WHERE d.delegate = $1 AND ($3::text IS NULL OR d.role = $3) {_ACTIVE_WHERE}
 ORDER BY d.role, d.principal, d.starts_at, d.delegation_id
"""
_LIST_FOR = f"""
SELECT {_COLUMNS} {_FROM}
 WHERE (d.principal = $1 OR d.delegate = $1)
   AND ($2 OR (d.revoked_at IS NULL AND d.ends_at > $3))
 ORDER BY d.starts_at, d.delegation_id
"""


def _record(row: asyncpg.Record) -> DelegationRecord:
    return DelegationRecord(**dict(row))


class DelegationStore:
    """Delegations over an asyncpg pool (the ``lifecycle_app`` role suffices)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def grant(
        self,
        principal: str,
        delegate: str,
        role: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str = "",
        now: datetime,
    ) -> Delegation:
        """Let ``delegate`` sign in ``principal``'s ``role`` during ``[starts_at, ends_at)``.

        Raises ``DelegationInvalid`` (naming the field), ``PrincipalNotFound``,
        ``DelegateNotFound``, ``DelegationUserDisabled``, ``RoleNotHeld`` or
        ``DelegationOverlaps`` (naming the delegation in the way).
        """
        record = await self.grant_record(
            principal,
            delegate,
            role,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            now=now,
        )
        return record.delegation()

    async def grant_record(
        self,
        principal: str,
        delegate: str,
        role: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str = "",
        now: datetime,
    ) -> DelegationRecord:
        """``grant``, answering the stored record (with the delegate's name and created_at)."""
        now = _utc("now", now)
        starts_at = _utc("starts_at", starts_at)
        ends_at = _utc("ends_at", ends_at)
        _check_role(role)
        reason = _check_reason(reason)
        if principal == delegate:
            raise DelegationInvalid(
                "delegate", f"{principal!r} cannot delegate to themselves: name someone else"
            )
        _check_period(starts_at, ends_at, now)
        if not _plausible_subject(principal):
            raise PrincipalNotFound(principal, "principal")
        if not _plausible_subject(delegate):
            raise DelegateNotFound(delegate, "delegate")
        try:
            return await self._insert(principal, delegate, role, starts_at, ends_at, reason, now)
        except asyncpg.ExclusionViolationError:
            # Another writer got in first (this store serialises its own grants per principal).
            row = await self._pool.fetchrow(_OVERLAPPING, principal, role, starts_at, ends_at)
            if row is None:
                raise
            raise DelegationOverlaps(_record(row)) from None

    async def _insert(
        self,
        principal: str,
        delegate: str,
        role: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        now: datetime,
    ) -> DelegationRecord:
        async with self._pool.acquire() as conn, conn.transaction():
            owner = await conn.fetchrow(_LOCK_PRINCIPAL, principal)
            if owner is None:
                raise PrincipalNotFound(principal, "principal")
            if owner["disabled"]:
                raise DelegationUserDisabled(principal, "principal")
            if role not in owner["roles"]:
                raise RoleNotHeld(principal, role)
            receiver = await conn.fetchrow(_LOCK_DELEGATE, delegate)
            if receiver is None:
                raise DelegateNotFound(delegate, "delegate")
            if receiver["disabled"]:
                raise DelegationUserDisabled(delegate, "delegate")
            existing = await conn.fetchrow(_OVERLAPPING, principal, role, starts_at, ends_at)
            if existing is not None:
                raise DelegationOverlaps(_record(existing))
            inserted = None
            while inserted is None:  # 36**12 ids: a collision is rare, and only costs a retry
                inserted = await conn.fetchval(
                    _INSERT, _new_id(), principal, delegate, role, starts_at, ends_at, reason, now
                )
            row = await conn.fetchrow(_GET, inserted)
        assert row is not None  # inserted in this transaction
        return _record(row)

    async def revoke(
        self, delegation_id: str, *, by: str, now: datetime, by_admin: bool = False
    ) -> DelegationRecord:
        """End a delegation now. Only its principal, or an admin (``by_admin=True``, which the
        caller has established), may; anyone else gets ``DelegationRevokeForbidden``. Revoking
        it again keeps the first revocation's time and person."""
        now = _utc("now", now)
        if not isinstance(delegation_id, str) or not _DELEGATION_ID.fullmatch(delegation_id):
            raise DelegationNotFound(delegation_id)
        async with self._pool.acquire() as conn, conn.transaction():
            principal = await conn.fetchval(_LOCK_ONE, delegation_id)
            if principal is None:
                raise DelegationNotFound(delegation_id)
            if by != principal and not by_admin:
                raise DelegationRevokeForbidden(delegation_id, by, principal)
            if not _plausible_subject(by):
                raise DelegationInvalid("by", f"{by!r:.80} cannot name who revokes")
            await conn.execute(_REVOKE, delegation_id, now, by)
            row = await conn.fetchrow(_GET, delegation_id)
        assert row is not None
        return _record(row)

    async def get(self, delegation_id: str) -> DelegationRecord | None:
        if not isinstance(delegation_id, str) or not _DELEGATION_ID.fullmatch(delegation_id):
            return None
        row = await self._pool.fetchrow(_GET, delegation_id)
        return None if row is None else _record(row)

    async def active_for(
        self, delegate: str, principal: str, role: str, at: datetime
    ) -> Delegation | None:
        """The delegation letting ``delegate`` sign in ``principal``'s ``role`` at ``at``, or
        None. Active means: ``starts_at <= at < ends_at``, not revoked at ``at``, the principal
        still holds the role and is enabled, and the delegate is enabled. Overlaps are refused
        when granting, so at most one matches."""
        at = _utc("at", at)
        if not (_plausible_subject(delegate) and _plausible_subject(principal)):
            return None
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            return None
        row = await self._pool.fetchrow(_ACTIVE_FOR, delegate, at, principal, role)
        return None if row is None else _record(row).delegation()

    async def active_received(
        self, delegate: str, *, at: datetime, role: str | None = None
    ) -> list[Delegation]:
        """Every delegation ``delegate`` may act under at ``at`` (of one role if given), by
        role then principal: for a sign-off that does not name whom it is for, or an inbox."""
        at = _utc("at", at)
        if not _plausible_subject(delegate):
            return []
        if role is not None and (not isinstance(role, str) or not _ROLE.fullmatch(role)):
            return []
        rows = await self._pool.fetch(_ACTIVE_RECEIVED, delegate, at, role)
        return [_record(row).delegation() for row in rows]

    async def list_for(
        self, subject: str, *, now: datetime, include_past: bool = False
    ) -> list[DelegationRecord]:
        """Delegations ``subject`` gave or received, by start. Without ``include_past`` only
        the current and scheduled ones (not revoked, ``ends_at > now``)."""
        now = _utc("now", now)
        if not _plausible_subject(subject):
            return []
        rows = await self._pool.fetch(_LIST_FOR, subject, include_past, now)
        return [_record(row) for row in rows]
