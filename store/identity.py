"""API tokens, kept in Postgres beside the users they are issued to.

The domain never authenticates (``domain.identity``): it trusts the actor it is handed. This
module is where an API request's bearer token becomes that actor.

Tokens look like ``lc_<token_id>_<secret>``. The ``token_id`` (12 alphanumerics) is not secret:
it names the token in listings, logs and revocations, and lets ``authenticate`` find the row
with one index probe. The secret is ``secrets.token_urlsafe(32)`` (256 random bits), shown once
and stored only as its SHA-256. A slow password hash (bcrypt, argon2) exists to make guessing
*low-entropy* passwords expensive; against 256 random bits guessing is hopeless anyway, so a
fast hash loses nothing and keeps every authenticated request cheap.

Refusals never say more than the caller has proven: a token whose secret does not match is
``unknown``, exactly like a token that was never issued, so expiry, revocation and the owner's
status are only revealed to someone who holds the secret. No message ever contains the secret.

Nothing is deleted: revoking a token is an update, like disabling a user. Disabling a user
blocks their tokens without revoking them; enabling the user again restores them.

Users and their roles live in ``store.users``, which this module builds on: ``IdentityStore``
is a ``UserStore`` that also keeps tokens, and the user names are re-exported here so that
callers need only this module.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
from pydantic import Field

from store.users import (
    IdentityError,
    User,
    UserDisabled,
    UserExists,
    UserNotFound,
    UserStore,
    _check_subject,
    _check_text,
    _could_exist,
    _Frozen,
    _user,
)

__all__ = [
    "IdentityError",
    "IdentityStore",
    "IssuedToken",
    "TokenInfo",
    "TokenNotFound",
    "TokenRejected",
    "User",
    "UserDisabled",
    "UserExists",
    "UserNotFound",
]

TOKEN_PREFIX = "lc_"
TOKEN_ID_LENGTH = 12
_TOKEN_ID_ALPHABET = string.ascii_letters + string.digits
_SECRET_BYTES = 32
_TOKEN = re.compile(r"lc_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")
_TOKEN_ID = re.compile(r"[A-Za-z0-9]{12}")
# A token's `last_used_at` says when it was last used to within this much: recording every
# request's use would cost each one a committed write.
USE_RECORDED_EVERY = timedelta(minutes=1)
_MAX_LABEL = 200

RejectionReason = Literal["malformed", "unknown", "expired", "revoked", "user_disabled"]


class IssuedToken(_Frozen):
    """A freshly created token. ``token`` is the only copy of the plaintext that will ever
    exist: hand it to the person now; the store keeps a hash it cannot be recovered from."""

    token_id: str
    token: str = Field(repr=False)  # kept out of reprs, so out of logs and tracebacks
    subject: str
    label: str
    expires_at: datetime


class TokenInfo(_Frozen):
    """What may be shown about a token after it was issued: everything but the secret."""

    token_id: str
    subject: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenNotFound(IdentityError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"no token {token_id!r}")
        self.token_id = token_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.token_id,))


_REJECTION_TEXT: dict[str, str] = {
    "malformed": "is not a lifecycle API token",
    "unknown": "is not known",
    "expired": "has expired",
    "revoked": "has been revoked",
    "user_disabled": "belongs to a disabled user",
}


class TokenRejected(IdentityError):
    """Authentication failed. ``reason`` says why for logs and metrics; an API should answer
    every reason with the same 401 so callers learn nothing they could not already know.
    ``token_id`` is set only once the secret was proven (expired, revoked, user_disabled)."""

    def __init__(self, reason: RejectionReason, token_id: str | None = None) -> None:
        where = f"token {token_id}" if token_id is not None else "the token"
        super().__init__(f"{where} {_REJECTION_TEXT[reason]} ({reason})")
        self.reason: RejectionReason = reason
        self.token_id = token_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.token_id))


# -- validation ---------------------------------------------------------------------------------


def _check_aware(what: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def _new_token_id() -> str:
    return "".join(secrets.choice(_TOKEN_ID_ALPHABET) for _ in range(TOKEN_ID_LENGTH))


# -- SQL ----------------------------------------------------------------------------------------

_TOKEN_COLUMNS = "token_id, subject, label, created_at, expires_at, revoked_at, last_used_at"

# FOR SHARE: a concurrent set_disabled waits until the token is in, or the token waits for it.
_LOCK_USER = "SELECT disabled FROM public.users WHERE subject = $1 FOR SHARE"
_INSERT_TOKEN = f"""
INSERT INTO public.api_tokens (token_id, subject, label, secret_sha256, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (token_id) DO NOTHING
RETURNING {_TOKEN_COLUMNS}
"""
_FIND_TOKEN = """
SELECT t.secret_sha256, t.expires_at, t.revoked_at, t.last_used_at,
       u.subject, u.display_name, u.roles, u.disabled, u.created_at
  FROM public.api_tokens t JOIN public.users u ON u.subject = t.subject
 WHERE t.token_id = $1
"""
# Re-checks revocation and the user's status in the statement that records the use, so a
# token revoked (or a user disabled) after _FIND_TOKEN read it is not let through.
_RECORD_USE = """
UPDATE public.api_tokens t
   SET last_used_at = GREATEST(t.last_used_at, $2)
  FROM public.users u
 WHERE t.token_id = $1 AND u.subject = t.subject
   AND t.revoked_at IS NULL AND NOT u.disabled
RETURNING u.subject, u.display_name, u.roles, u.disabled, u.created_at
"""
_REVOKE = f"""
UPDATE public.api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_id = $1
RETURNING {_TOKEN_COLUMNS}
"""
_LIST_TOKENS = f"SELECT {_TOKEN_COLUMNS} FROM public.api_tokens ORDER BY created_at, token_id"
_LIST_TOKENS_OF = f"""
SELECT {_TOKEN_COLUMNS} FROM public.api_tokens WHERE subject = $1 ORDER BY created_at, token_id
"""


def _token_info(row: asyncpg.Record) -> TokenInfo:
    return TokenInfo(**dict(row))


class IdentityStore(UserStore):
    """Users, roles and API tokens over an asyncpg pool (the ``lifecycle_app`` role suffices).

    Clocks are the caller's (``now=``) wherever a time decides an outcome, so expiry is tested
    without sleeping and an API can use one request time throughout.
    """

    async def create_token(
        self, subject: str, *, label: str, expires_at: datetime, now: datetime
    ) -> IssuedToken:
        """Issue a token for an enabled user, valid until ``expires_at`` (exclusive).

        Every token expires: a forgotten token on a laptop should stop working by itself.
        """
        _check_subject(subject)
        _check_text("token label", label, _MAX_LABEL)
        _check_aware("expires_at", expires_at)
        _check_aware("now", now)
        if expires_at <= now:
            raise ValueError(
                f"expires_at {expires_at.isoformat()} must be later than now ({now.isoformat()})"
            )
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.fetchrow(_LOCK_USER, subject)
            if status is None:
                raise UserNotFound(subject)
            if status["disabled"]:
                raise UserDisabled(subject)
            row = None
            while row is None:  # 62**12 ids: a collision is astronomically rare, but harmless
                token_id = _new_token_id()
                row = await conn.fetchrow(
                    _INSERT_TOKEN, token_id, subject, label, _digest(secret), now, expires_at
                )
        return IssuedToken(
            token_id=token_id,
            token=f"{TOKEN_PREFIX}{token_id}_{secret}",
            subject=subject,
            label=label,
            expires_at=row["expires_at"],
        )

    async def authenticate(self, token: str, *, now: datetime) -> User:
        """The user a bearer token belongs to; records the use. Raises ``TokenRejected``.

        A token is valid while ``now < expires_at``, it is not revoked and its user is enabled.
        """
        _check_aware("now", now)
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise TokenRejected("malformed")
        token_id, secret = match.group(1), match.group(2)
        row = await self._pool.fetchrow(_FIND_TOKEN, token_id)
        # Compare even when the id is unknown, so both answers take the same time.
        stored = row["secret_sha256"] if row is not None else bytes(32)
        if not hmac.compare_digest(stored, _digest(secret)) or row is None:
            raise TokenRejected("unknown")
        _refuse_if_invalid(token_id, row["revoked_at"], row["expires_at"], row["disabled"], now)
        last_used = row["last_used_at"]
        if last_used is not None and timedelta(0) <= now - last_used < USE_RECORDED_EVERY:
            return _user(row)  # its use was recorded a moment ago: spare every request a write
        user_row = await self._pool.fetchrow(_RECORD_USE, token_id, now)
        if user_row is None:  # revoked or disabled between the two statements
            again = await self._pool.fetchrow(_FIND_TOKEN, token_id)
            revoked = again is None or again["revoked_at"] is not None
            raise TokenRejected("revoked" if revoked else "user_disabled", token_id)
        return _user(user_row)

    async def revoke_token(self, token_id: str, *, now: datetime) -> TokenInfo:
        """Revoke a token for good. Revoking it again keeps the first revocation time."""
        _check_aware("now", now)
        row = None
        if _TOKEN_ID.fullmatch(token_id):
            row = await self._pool.fetchrow(_REVOKE, token_id, now)
        if row is None:
            raise TokenNotFound(token_id)
        return _token_info(row)

    async def list_tokens(self, subject: str | None = None) -> list[TokenInfo]:
        """Tokens (never their secrets), oldest first; of one user when ``subject`` is given.

        A subject with no user simply has no tokens (use ``get_user`` to tell the two apart).
        """
        if subject is None:
            rows = await self._pool.fetch(_LIST_TOKENS)
        elif _could_exist(subject):
            rows = await self._pool.fetch(_LIST_TOKENS_OF, subject)
        else:
            rows = []
        return [_token_info(row) for row in rows]


def _refuse_if_invalid(
    token_id: str,
    revoked_at: datetime | None,
    expires_at: datetime,
    disabled: bool,
    now: datetime,
) -> None:
    # Revoked first: it is the deliberate act, and the answer stays the same after expiry.
    if revoked_at is not None:
        raise TokenRejected("revoked", token_id)
    if now >= expires_at:
        raise TokenRejected("expired", token_id)
    if disabled:
        raise TokenRejected("user_disabled", token_id)
