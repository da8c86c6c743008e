"""Users and their roles against a real Postgres, acting as the application role."""

from __future__ import annotations

import re

import asyncpg
import pytest

from store.identity import IdentityStore, UserExists, UserNotFound


@pytest.fixture
def identity(app_pool: asyncpg.Pool) -> IdentityStore:
    return IdentityStore(app_pool)


async def _ada(identity: IdentityStore) -> None:
    await identity.add_user("ada", "Ada Lovelace", ["product-manager"])


async def test_a_new_user_keeps_roles_sorted_and_without_duplicates(
    identity: IdentityStore,
) -> None:
    user = await identity.add_user("grace", "Grace Hopper", ["legal", "finance", "legal"])

    assert user.subject == "grace"
    assert user.display_name == "Grace Hopper"
    assert user.roles == ("finance", "legal")
    assert not user.disabled
    assert user.created_at.tzinfo is not None
    assert await identity.get_user("grace") == user


async def test_users_are_listed_by_subject_disabled_ones_included(
    identity: IdentityStore,
) -> None:
    await identity.add_user("zoe", "Zoe", [])
    await identity.add_user("ada", "Ada", ["product-manager"])
    await identity.set_disabled("zoe", True)

    users = await identity.list_users()

    assert [(u.subject, u.disabled) for u in users] == [("ada", False), ("zoe", True)]


async def test_an_unknown_subject_has_no_user(identity: IdentityStore) -> None:
    assert await identity.get_user("nobody") is None


async def test_adding_a_taken_subject_is_refused_and_keeps_the_first_user(
    identity: IdentityStore,
) -> None:
    await _ada(identity)

    with pytest.raises(UserExists, match="'ada' already exists"):
        await identity.add_user("ada", "Impostor", ["admin"])

    user = await identity.get_user("ada")
    assert user is not None
    assert (user.display_name, user.roles) == ("Ada Lovelace", ("product-manager",))


@pytest.mark.parametrize(
    ("subject", "problem"),
    [
        ("", "1 to 128 characters"),
        ("x" * 129, "1 to 128 characters"),
        (" ada", "spaces"),
        ("ada ", "spaces"),
        ("ada\nadmin", "control characters"),
    ],
)
async def test_a_subject_out_of_shape_is_refused_by_name(
    identity: IdentityStore, subject: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        await identity.add_user(subject, "Someone", [])

    assert repr(subject[:80]) in str(refused.value)
    assert await identity.list_users() == []


async def test_a_subject_of_exactly_128_characters_is_accepted(identity: IdentityStore) -> None:
    user = await identity.add_user("s" * 128, "Long Name", [])

    assert user.subject == "s" * 128


async def test_an_empty_display_name_is_refused(identity: IdentityStore) -> None:
    with pytest.raises(ValueError, match="display name '' must be 1 to 128"):
        await identity.add_user("ada", "", [])


@pytest.mark.parametrize(
    "role", ["Admin", "1st-line", "-ops", "", "two words", "a" * 49, "ops_x", "ops\n"]
)
async def test_a_role_out_of_shape_is_refused_by_name(identity: IdentityStore, role: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"role {role!r} is not valid")):
        await identity.add_user("ada", "Ada", ["product-manager", role])

    assert await identity.get_user("ada") is None


async def test_roles_given_as_one_string_are_refused_rather_than_split_into_letters(
    identity: IdentityStore,
) -> None:
    with pytest.raises(ValueError, match="not the string 'admin'"):
        await identity.add_user("ada", "Ada", "admin")


async def test_the_database_itself_refuses_roles_out_of_shape(app_pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="users_roles_check"):
        await app_pool.execute(
            "INSERT INTO users (subject, display_name, roles) VALUES ('x', 'X', '{Admin}')"
        )


async def test_setting_roles_replaces_all_of_them(identity: IdentityStore) -> None:
    await _ada(identity)

    user = await identity.set_roles("ada", ["gatekeeper", "auditor", "auditor"])

    assert user.roles == ("auditor", "gatekeeper")
    assert await identity.get_user("ada") == user
    assert (await identity.set_roles("ada", [])).roles == ()


async def test_setting_roles_of_an_unknown_user_is_refused(identity: IdentityStore) -> None:
    with pytest.raises(UserNotFound, match="no user 'nobody'"):
        await identity.set_roles("nobody", ["auditor"])


async def test_setting_an_invalid_role_changes_nothing(identity: IdentityStore) -> None:
    await _ada(identity)

    with pytest.raises(ValueError, match="role 'Auditor' is not valid"):
        await identity.set_roles("ada", ["Auditor"])

    user = await identity.get_user("ada")
    assert user is not None
    assert user.roles == ("product-manager",)


async def test_disabling_and_enabling_a_user(identity: IdentityStore) -> None:
    await _ada(identity)

    assert (await identity.set_disabled("ada", True)).disabled
    assert not (await identity.set_disabled("ada", False)).disabled


async def test_disabling_an_unknown_user_is_refused(identity: IdentityStore) -> None:
    with pytest.raises(UserNotFound):
        await identity.set_disabled("nobody", True)
