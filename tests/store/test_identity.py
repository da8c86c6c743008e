"""API tokens, and the users they belong to, against a real Postgres as the application role."""

from __future__ import annotations

import hashlib
import pickle
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from store.identity import (
    IdentityStore,
    IssuedToken,
    TokenNotFound,
    TokenRejected,
    UserDisabled,
    UserNotFound,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
IN_A_MONTH = NOW + timedelta(days=30)


@pytest.fixture
def identity(app_pool: asyncpg.Pool) -> IdentityStore:
    return IdentityStore(app_pool)


async def _ada(identity: IdentityStore) -> None:
    await identity.add_user("ada", "Ada Lovelace", ["product-manager"])


async def _token(identity: IdentityStore, subject: str = "ada", **kwargs: object) -> IssuedToken:
    fields: dict[str, object] = {"label": "laptop", "expires_at": IN_A_MONTH, "now": NOW}
    fields.update(kwargs)
    return await identity.create_token(subject, **fields)  # type: ignore[arg-type]


async def test_the_application_role_cannot_delete_users_or_tokens(
    identity: IdentityStore, app_pool: asyncpg.Pool
) -> None:
    await _ada(identity)
    await _token(identity)

    for table in ("users", "api_tokens"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_pool.execute(f"DELETE FROM {table}")


# -- issuing tokens -----------------------------------------------------------------------------


async def test_an_issued_token_authenticates_its_user(identity: IdentityStore) -> None:
    await _ada(identity)

    issued = await _token(identity)
    user = await identity.authenticate(issued.token, now=NOW + timedelta(minutes=1))

    assert re.fullmatch(r"lc_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}", issued.token)
    assert issued.token.startswith(f"lc_{issued.token_id}_")
    assert (issued.subject, issued.label, issued.expires_at) == ("ada", "laptop", IN_A_MONTH)
    assert user == await identity.get_user("ada")


async def test_only_the_hash_of_the_secret_is_stored(
    identity: IdentityStore, database_dsn: str
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    secret = issued.token.split("_", 2)[2]

    conn = await asyncpg.connect(database_dsn)
    try:
        row = await conn.fetchrow("SELECT t::text AS everything, secret_sha256 FROM api_tokens t")
    finally:
        await conn.close()

    assert row is not None
    assert row["secret_sha256"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in row["everything"]


async def test_the_plaintext_token_stays_out_of_reprs(identity: IdentityStore) -> None:
    await _ada(identity)
    issued = await _token(identity)

    assert issued.token not in repr(issued)
    assert issued.token not in str(issued)


async def test_every_token_is_different(identity: IdentityStore) -> None:
    await _ada(identity)

    issued = [await _token(identity, label=f"token {n}") for n in range(5)]

    assert len({t.token for t in issued}) == len({t.token_id for t in issued}) == 5


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(seconds=1)])
async def test_a_token_that_would_expire_at_once_is_refused(
    identity: IdentityStore, expires_at: datetime
) -> None:
    await _ada(identity)

    with pytest.raises(ValueError, match="must be later than now"):
        await _token(identity, expires_at=expires_at)

    assert await identity.list_tokens() == []


async def test_a_token_with_a_naive_expiry_is_refused(identity: IdentityStore) -> None:
    await _ada(identity)

    with pytest.raises(ValueError, match="expires_at must be timezone-aware"):
        await _token(identity, expires_at=datetime(2030, 1, 1))


@pytest.mark.parametrize("label", ["", " laptop", "x" * 201])
async def test_a_token_label_out_of_shape_is_refused(identity: IdentityStore, label: str) -> None:
    await _ada(identity)

    with pytest.raises(ValueError, match="token label"):
        await _token(identity, label=label)


async def test_no_token_is_issued_to_an_unknown_user(identity: IdentityStore) -> None:
    with pytest.raises(UserNotFound, match="no user 'nobody'"):
        await _token(identity, "nobody")


async def test_no_token_is_issued_to_a_disabled_user(identity: IdentityStore) -> None:
    await _ada(identity)
    await identity.set_disabled("ada", True)

    with pytest.raises(UserDisabled, match="'ada' is disabled"):
        await _token(identity)

    assert await identity.list_tokens("ada") == []


# -- authenticating -----------------------------------------------------------------------------


async def test_authenticating_records_the_last_use(identity: IdentityStore) -> None:
    await _ada(identity)
    issued = await _token(identity)
    later = NOW + timedelta(hours=2)

    await identity.authenticate(issued.token, now=later)
    await identity.authenticate(issued.token, now=NOW + timedelta(hours=1))  # clocks disagree

    [info] = await identity.list_tokens("ada")
    assert info.last_used_at == later


async def test_uses_within_a_minute_of_the_recorded_one_write_nothing_and_later_ones_do(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    first = NOW + timedelta(hours=1)

    await identity.authenticate(issued.token, now=first)
    soon = await identity.authenticate(issued.token, now=first + timedelta(seconds=59))
    [after_soon] = await identity.list_tokens("ada")
    await identity.authenticate(issued.token, now=first + timedelta(seconds=61))
    [after_a_minute] = await identity.list_tokens("ada")

    assert soon.subject == "ada"
    assert after_soon.last_used_at == first
    assert after_a_minute.last_used_at == first + timedelta(seconds=61)


async def test_a_token_revoked_after_its_recent_use_is_refused_at_once(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    await identity.authenticate(issued.token, now=NOW)
    await identity.revoke_token(issued.token_id, now=NOW + timedelta(seconds=5))

    with pytest.raises(TokenRejected):
        await identity.authenticate(issued.token, now=NOW + timedelta(seconds=10))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "Bearer lc_abcdefghijkl_" + "a" * 43,
        "lc_abcdefghijkl",
        "lc_abcdefghijk_" + "a" * 43,  # id one short
        "lc_abcdefghijkl_" + "a" * 42,  # secret one short
        "lc_abcdefghijkl_" + "a" * 44,
        "LC_abcdefghijkl_" + "a" * 43,
        "lc_abcdefghijkl_" + "a" * 42 + "=",
        "lc_abcdefghijkl_" + "a" * 43 + "\n",
    ],
)
async def test_a_malformed_token_is_rejected_without_echoing_it(
    identity: IdentityStore, token: str
) -> None:
    with pytest.raises(TokenRejected) as rejected:
        await identity.authenticate(token, now=NOW)

    assert rejected.value.reason == "malformed"
    assert rejected.value.token_id is None
    if token:
        assert token.strip() not in str(rejected.value)


async def test_a_well_formed_token_never_issued_is_unknown(identity: IdentityStore) -> None:
    with pytest.raises(TokenRejected, match=r"\(unknown\)") as rejected:
        await identity.authenticate("lc_abcdefghijkl_" + "a" * 43, now=NOW)

    assert rejected.value.reason == "unknown"


async def test_a_known_token_id_with_the_wrong_secret_is_unknown_and_changes_nothing(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    await identity.revoke_token(issued.token_id, now=NOW)  # must not be revealed either
    forged = f"lc_{issued.token_id}_{'b' * 43}"

    with pytest.raises(TokenRejected) as rejected:
        await identity.authenticate(forged, now=NOW)

    assert rejected.value.reason == "unknown"
    assert rejected.value.token_id is None
    assert "b" * 43 not in str(rejected.value)
    [info] = await identity.list_tokens()
    assert info.last_used_at is None


async def test_a_token_is_expired_from_the_instant_of_its_expiry(identity: IdentityStore) -> None:
    await _ada(identity)
    issued = await _token(identity)
    await identity.authenticate(issued.token, now=IN_A_MONTH - timedelta(microseconds=1))

    for now in (IN_A_MONTH, IN_A_MONTH + timedelta(days=1)):
        with pytest.raises(TokenRejected, match="has expired") as rejected:
            await identity.authenticate(issued.token, now=now)
        assert rejected.value.reason == "expired"
        assert rejected.value.token_id == issued.token_id
        assert issued.token not in str(rejected.value)


async def test_a_revoked_token_is_rejected_and_says_so_even_after_expiry(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    await identity.revoke_token(issued.token_id, now=NOW)

    for now in (NOW, IN_A_MONTH + timedelta(days=1)):
        with pytest.raises(TokenRejected, match="has been revoked") as rejected:
            await identity.authenticate(issued.token, now=now)
        assert rejected.value.reason == "revoked"
        assert issued.token.split("_", 2)[2] not in str(rejected.value)


async def test_a_disabled_users_tokens_are_rejected_until_enabled_again(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    issued = await _token(identity)
    await identity.set_disabled("ada", True)

    with pytest.raises(TokenRejected, match="disabled user") as rejected:
        await identity.authenticate(issued.token, now=NOW)
    assert rejected.value.reason == "user_disabled"

    await identity.set_disabled("ada", False)
    assert (await identity.authenticate(issued.token, now=NOW)).subject == "ada"


async def test_authentication_sees_role_changes_at_once(identity: IdentityStore) -> None:
    await _ada(identity)
    issued = await _token(identity)

    await identity.set_roles("ada", ["auditor"])

    assert (await identity.authenticate(issued.token, now=NOW)).roles == ("auditor",)


async def test_authenticating_with_a_naive_clock_is_refused(identity: IdentityStore) -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        await identity.authenticate("lc_abcdefghijkl_" + "a" * 43, now=datetime(2026, 1, 1))


def test_a_rejection_survives_pickling_for_transport_between_processes() -> None:
    rejected = pickle.loads(pickle.dumps(TokenRejected("revoked", "abcdefghijkl")))

    assert (rejected.reason, rejected.token_id) == ("revoked", "abcdefghijkl")
    assert str(rejected) == "token abcdefghijkl has been revoked (revoked)"


# -- revoking and listing -----------------------------------------------------------------------


async def test_revoking_twice_keeps_the_first_revocation_time(identity: IdentityStore) -> None:
    await _ada(identity)
    issued = await _token(identity)

    first = await identity.revoke_token(issued.token_id, now=NOW + timedelta(hours=1))
    second = await identity.revoke_token(issued.token_id, now=NOW + timedelta(hours=2))

    assert first.revoked_at == second.revoked_at == NOW + timedelta(hours=1)


@pytest.mark.parametrize("token_id", ["abcdefghijkl", "not-an-id", ""])
async def test_revoking_an_unknown_token_is_refused(identity: IdentityStore, token_id: str) -> None:
    with pytest.raises(TokenNotFound, match=re.escape(f"no token {token_id!r}")):
        await identity.revoke_token(token_id, now=NOW)


async def test_tokens_are_listed_oldest_first_per_user_or_for_everyone(
    identity: IdentityStore,
) -> None:
    await _ada(identity)
    await identity.add_user("grace", "Grace Hopper", ["gatekeeper"])
    second = await _token(identity, label="ci", now=NOW + timedelta(minutes=1))
    first = await _token(identity, label="laptop")
    graces = await _token(identity, "grace", label="phone", now=NOW + timedelta(minutes=2))

    every = await identity.list_tokens()
    adas = await identity.list_tokens("ada")

    assert [t.token_id for t in every] == [first.token_id, second.token_id, graces.token_id]
    assert [t.token_id for t in adas] == [first.token_id, second.token_id]
    assert adas[0].model_dump() == {
        "token_id": first.token_id,
        "subject": "ada",
        "label": "laptop",
        "created_at": NOW,
        "expires_at": IN_A_MONTH,
        "revoked_at": None,
        "last_used_at": None,
    }


async def test_a_user_without_tokens_has_an_empty_list(identity: IdentityStore) -> None:
    await _ada(identity)

    assert await identity.list_tokens("ada") == []


@pytest.mark.parametrize("subject", ["nobody", "nul\x00byte", "lone \udaea surrogate", ""])
async def test_a_subject_without_a_user_has_no_tokens(
    identity: IdentityStore, subject: str
) -> None:
    await _ada(identity)
    await _token(identity)

    assert await identity.list_tokens(subject) == []


@pytest.mark.parametrize("subject", ["nul\x00byte", "lone \udaea surrogate", "", "x" * 129])
async def test_a_subject_no_user_could_have_is_simply_not_found(
    identity: IdentityStore, subject: str
) -> None:
    assert await identity.get_user(subject) is None
    with pytest.raises(UserNotFound):
        await identity.set_roles(subject, ["auditor"])
    with pytest.raises(UserNotFound):
        await identity.set_disabled(subject, True)


@pytest.mark.parametrize("subject", ["nul\x00byte", "lone \udaea surrogate", ""])
async def test_a_token_for_a_subject_out_of_shape_is_refused_by_name(
    identity: IdentityStore, subject: str
) -> None:
    with pytest.raises(ValueError, match="subject"):
        await _token(identity, subject)
