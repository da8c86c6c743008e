"""People and the roles they hold, kept in Postgres: who may act at all.

API tokens are issued to users and authenticate as them, so ``store.identity`` builds on this
module (and re-exports its names) rather than the other way round. Nothing is deleted: a user
is disabled, never removed, so every subject named in an old event can still be looked up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict

__all__ = [
    "IdentityError",
    "User",
    "UserDisabled",
    "UserExists",
    "UserNotFound",
    "UserStore",
]

_ROLE = re.compile(r"[a-z][a-z0-9-]{0,47}")
_MAX_SUBJECT = 128
_MAX_DISPLAY_NAME = 128


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class User(_Frozen):
    """A person (or service) who may act, and every role they hold (sorted, no duplicates)."""

    subject: str
    display_name: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime


class IdentityError(Exception):
    """Base class for every refusal of the identity store."""


class UserExists(IdentityError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"user {subject!r} already exists")
        self.subject = subject

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.subject,))


class UserNotFound(IdentityError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"no user {subject!r}")
        self.subject = subject

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.subject,))


class UserDisabled(IdentityError):
    """The user exists but is disabled, so no new token may be issued to them."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"user {subject!r} is disabled")
        self.subject = subject

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.subject,))


# -- validation ---------------------------------------------------------------------------------


def _shown(value: str) -> str:
    """A bad value for an error message: quoted, and cut short if someone pasted a novel."""
    return repr(value) if len(value) <= 80 else f"{value[:80]!r}... ({len(value)} characters)"


def _check_text(what: str, value: str, maximum: int) -> str:
    if not 1 <= len(value) <= maximum:
        raise ValueError(f"{what} {_shown(value)} must be 1 to {maximum} characters long")
    if value != value.strip() or not value.isprintable():
        raise ValueError(
            f"{what} {_shown(value)} must not start or end with spaces "
            "or contain control characters"
        )
    return value


def _check_subject(subject: str) -> str:
    return _check_text("subject", subject, _MAX_SUBJECT)


def _could_exist(subject: str) -> bool:
    """Whether ``subject`` could name a user at all. Lookups answer "no such user" for one
    that could not, instead of sending Postgres text it refuses (NUL, lone surrogates)."""
    try:
        _check_subject(subject)
    except ValueError:
        return False
    return True


def _check_roles(roles: Sequence[str]) -> list[str]:
    if isinstance(roles, str):  # a str is a Sequence[str]; "admin" would become a, d, m, i, n
        raise ValueError(f"roles must be a list of role names, not the string {_shown(roles)}")
    for role in roles:
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            raise ValueError(
                f"role {_shown(str(role))} is not valid: use 1 to 48 characters, lowercase "
                "letters, digits and '-', starting with a letter"
            )
    return sorted(set(roles))


# -- SQL ----------------------------------------------------------------------------------------

_USER_COLUMNS = "subject, display_name, roles, disabled, created_at"

_INSERT_USER = f"""
INSERT INTO public.users (subject, display_name, roles) VALUES ($1, $2, $3)
ON CONFLICT (subject) DO NOTHING
RETURNING {_USER_COLUMNS}
"""
_SET_ROLES = f"""
UPDATE public.users SET roles = $2, updated_at = now() WHERE subject = $1
RETURNING {_USER_COLUMNS}
"""
_SET_DISABLED = f"""
UPDATE public.users SET disabled = $2, updated_at = now() WHERE subject = $1
RETURNING {_USER_COLUMNS}
"""
_GET_USER = f"SELECT {_USER_COLUMNS} FROM public.users WHERE subject = $1"
_LIST_USERS = f"SELECT {_USER_COLUMNS} FROM public.users ORDER BY subject"


def _user(row: asyncpg.Record) -> User:
    return User(
        subject=row["subject"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        disabled=row["disabled"],
        created_at=row["created_at"],
    )


class UserStore:
    """Users and their roles over an asyncpg pool; ``store.identity.IdentityStore`` adds their
    tokens."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_user(self, subject: str, display_name: str, roles: Sequence[str]) -> User:
        """Create a user; ``UserExists`` if the subject is taken (the existing one is kept)."""
        _check_subject(subject)
        _check_text("display name", display_name, _MAX_DISPLAY_NAME)
        row = await self._pool.fetchrow(_INSERT_USER, subject, display_name, _check_roles(roles))
        if row is None:
            raise UserExists(subject)
        return _user(row)

    async def set_roles(self, subject: str, roles: Sequence[str]) -> User:
        """Replace every role the user holds (an empty list leaves them none)."""
        valid_roles = _check_roles(roles)
        row = None
        if _could_exist(subject):
            row = await self._pool.fetchrow(_SET_ROLES, subject, valid_roles)
        if row is None:
            raise UserNotFound(subject)
        return _user(row)

    async def set_disabled(self, subject: str, disabled: bool) -> User:
        """Disable (or enable again) a user; their tokens stop (or resume) working at once."""
        row = None
        if _could_exist(subject):
            row = await self._pool.fetchrow(_SET_DISABLED, subject, disabled)
        if row is None:
            raise UserNotFound(subject)
        return _user(row)

    async def get_user(self, subject: str) -> User | None:
        if not _could_exist(subject):
            return None
        row = await self._pool.fetchrow(_GET_USER, subject)
        return None if row is None else _user(row)

    async def list_users(self) -> list[User]:
        """Every user, disabled ones included, ordered by subject."""
        return [_user(row) for row in await self._pool.fetch(_LIST_USERS)]
