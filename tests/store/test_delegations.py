"""Out-of-office delegations against a real Postgres, acting as the application role."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest
import pytest_asyncio

from domain.delegation import Delegation
from store.delegations import (
    DelegateNotFound,
    DelegationError,
    DelegationInvalid,
    DelegationNotFound,
    DelegationOverlaps,
    DelegationRecord,
    DelegationRevokeForbidden,
    DelegationStore,
    DelegationUserDisabled,
    PrincipalNotFound,
    RoleNotHeld,
)
from store.identity import IdentityStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
START = NOW + timedelta(days=1)
END = NOW + timedelta(days=8)
TICK = timedelta(microseconds=1)


@pytest_asyncio.fixture(loop_scope="session")
async def people(app_pool: asyncpg.Pool) -> IdentityStore:
    identity = IdentityStore(app_pool)
    await identity.add_user("grace", "Grace Hopper", ["product-lead", "finance"])
    await identity.add_user("ada", "Ada Lovelace", ["product-manager"])
    await identity.add_user("linus", "Linus Torvalds", [])
    await identity.add_user("root", "Ann Admin", ["admin"])
    return identity


@pytest.fixture
def store(app_pool: asyncpg.Pool, people: IdentityStore) -> DelegationStore:
    return DelegationStore(app_pool)


async def _grant(
    store: DelegationStore,
    principal: str = "grace",
    delegate: str = "ada",
    role: str = "product-lead",
    *,
    starts_at: datetime = START,
    ends_at: datetime = END,
    reason: str = "on leave",
    now: datetime = NOW,
) -> Delegation:
    return await store.grant(
        principal, delegate, role, starts_at=starts_at, ends_at=ends_at, reason=reason, now=now
    )


# -- granting -----------------------------------------------------------------------------------


async def test_a_grant_answers_the_domain_delegation_with_the_principals_printed_name(
    store: DelegationStore,
) -> None:
    granted = await _grant(store, reason="  conference week  ")

    assert isinstance(granted, Delegation)
    assert granted.principal == "grace"
    assert granted.principal_name == "Grace Hopper"
    assert granted.delegate == "ada"
    assert granted.role == "product-lead"
    assert (granted.starts_at, granted.ends_at) == (START, END)
    assert granted.reason == "conference week"
    assert len(granted.delegation_id) == 12
    assert granted.delegation_id.isalnum()
    assert granted.delegation_id.islower()


async def test_the_stored_record_names_both_people_and_when_it_was_granted(
    store: DelegationStore,
) -> None:
    granted = await _grant(store)

    record = await store.get(granted.delegation_id)

    assert record == DelegationRecord(
        delegation_id=granted.delegation_id,
        principal="grace",
        principal_name="Grace Hopper",
        delegate="ada",
        delegate_name="Ada Lovelace",
        role="product-lead",
        starts_at=START,
        ends_at=END,
        reason="on leave",
        created_at=NOW,
        revoked_at=None,
        revoked_by=None,
    )
    assert record.delegation() == granted


async def test_each_grant_gets_its_own_random_id(store: DelegationStore) -> None:
    first = await _grant(store, role="product-lead")
    second = await _grant(store, role="finance")

    assert first.delegation_id != second.delegation_id


async def test_times_in_other_zones_are_stored_as_the_same_instants(
    store: DelegationStore,
) -> None:
    tokyo = timezone(timedelta(hours=9))

    granted = await _grant(store, starts_at=START.astimezone(tokyo), ends_at=END.astimezone(tokyo))

    assert (granted.starts_at, granted.ends_at) == (START, END)
    assert granted.starts_at.utcoffset() == timedelta(0)


async def test_a_delegation_may_start_right_now(store: DelegationStore) -> None:
    granted = await _grant(store, starts_at=NOW)

    assert await store.active_for("ada", "grace", "product-lead", NOW) == granted


# -- lookup and period boundaries ---------------------------------------------------------------


async def test_the_start_is_included_and_the_end_is_not(store: DelegationStore) -> None:
    granted = await _grant(store)

    async def at(moment: datetime) -> Delegation | None:
        return await store.active_for("ada", "grace", "product-lead", moment)

    assert await at(START - TICK) is None
    assert await at(START) == granted
    assert await at(START + timedelta(days=3)) == granted
    assert await at(END - TICK) == granted
    assert await at(END) is None
    assert await at(END + timedelta(days=30)) is None


async def test_the_lookup_matches_delegate_principal_and_role_exactly(
    store: DelegationStore,
) -> None:
    await _grant(store)
    during = START + timedelta(hours=1)

    assert await store.active_for("ada", "grace", "product-lead", during) is not None
    assert await store.active_for("ada", "grace", "finance", during) is None
    assert await store.active_for("linus", "grace", "product-lead", during) is None
    assert await store.active_for("grace", "ada", "product-lead", during) is None
    assert await store.active_for("nobody", "grace", "product-lead", during) is None


async def test_a_lookup_with_input_no_user_or_role_could_have_is_simply_none(
    store: DelegationStore,
) -> None:
    await _grant(store)
    during = START + timedelta(hours=1)

    assert await store.active_for("ada\x00", "grace", "product-lead", during) is None
    assert await store.active_for("ada", "grace", "Product Lead", during) is None
    assert await store.active_for("", "grace", "product-lead", during) is None


async def test_the_lookup_moment_may_be_in_any_zone(store: DelegationStore) -> None:
    granted = await _grant(store)
    new_york = timezone(timedelta(hours=-5))

    assert await store.active_for("ada", "grace", "product-lead", START.astimezone(new_york)) == (
        granted
    )
    assert await store.active_for("ada", "grace", "product-lead", END.astimezone(new_york)) is None


async def test_a_naive_lookup_moment_is_refused(store: DelegationStore) -> None:
    with pytest.raises(DelegationInvalid, match="at must be a timezone-aware"):
        await store.active_for("ada", "grace", "product-lead", START.replace(tzinfo=None))


async def test_taking_the_role_from_the_principal_ends_what_they_delegated(
    store: DelegationStore, people: IdentityStore
) -> None:
    await _grant(store)
    during = START + timedelta(hours=1)

    await people.set_roles("grace", ["finance"])
    gone = await store.active_for("ada", "grace", "product-lead", during)
    await people.set_roles("grace", ["finance", "product-lead"])
    back = await store.active_for("ada", "grace", "product-lead", during)

    assert gone is None
    assert back is not None


async def test_a_disabled_principal_or_delegate_confers_nothing(
    store: DelegationStore, people: IdentityStore
) -> None:
    await _grant(store)
    during = START + timedelta(hours=1)

    await people.set_disabled("grace", True)
    principal_disabled = await store.active_for("ada", "grace", "product-lead", during)
    await people.set_disabled("grace", False)
    await people.set_disabled("ada", True)
    delegate_disabled = await store.active_for("ada", "grace", "product-lead", during)

    assert principal_disabled is None
    assert delegate_disabled is None


async def test_active_received_lists_what_a_delegate_may_sign_now(
    store: DelegationStore, people: IdentityStore
) -> None:
    await people.add_user("mary", "Mary Jackson", ["product-lead"])
    lead = await _grant(store)
    finance = await _grant(store, role="finance", starts_at=START + timedelta(days=2))
    mary = await _grant(store, "mary")
    during = START + timedelta(days=3)

    assert await store.active_received("ada", at=during) == [finance, lead, mary]
    assert await store.active_received("ada", at=during, role="product-lead") == [lead, mary]
    assert await store.active_received("ada", at=START) == [lead, mary]
    assert await store.active_received("ada", at=END) == []
    assert await store.active_received("grace", at=during) == []


# -- refusals when granting ---------------------------------------------------------------------


async def test_an_overlapping_delegation_of_the_same_role_is_refused_naming_the_existing_one(
    store: DelegationStore, people: IdentityStore
) -> None:
    existing = await _grant(store)

    with pytest.raises(DelegationOverlaps) as refused:
        await _grant(
            store, delegate="linus", starts_at=END - timedelta(hours=1), ends_at=END + timedelta(1)
        )

    message = str(refused.value)
    assert existing.delegation_id in message
    assert "'grace' already delegates role 'product-lead' to 'ada'" in message
    assert START.isoformat() in message
    assert END.isoformat() in message
    assert refused.value.existing.delegation_id == existing.delegation_id
    assert [r.delegate for r in await store.list_for("grace", now=NOW)] == ["ada"]


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        (START - timedelta(hours=1), START + timedelta(hours=1)),  # straddles the start
        (START + timedelta(days=1), START + timedelta(days=2)),  # inside
        (NOW, END + timedelta(days=1)),  # around
        (START, END),  # the same
        (END - TICK, END + timedelta(days=1)),  # one microsecond in common
    ],
)
async def test_every_kind_of_overlap_is_refused(
    store: DelegationStore, starts_at: datetime, ends_at: datetime
) -> None:
    await _grant(store)

    with pytest.raises(DelegationOverlaps):
        await _grant(store, delegate="linus", starts_at=starts_at, ends_at=ends_at)


async def test_back_to_back_periods_and_other_roles_do_not_overlap(
    store: DelegationStore,
) -> None:
    await _grant(store)

    before = await _grant(store, delegate="linus", starts_at=NOW, ends_at=START)
    after = await _grant(store, delegate="linus", starts_at=END, ends_at=END + timedelta(days=1))
    other_role = await _grant(store, role="finance")

    assert await store.active_for("linus", "grace", "product-lead", START - TICK) == before
    assert await store.active_for("ada", "grace", "product-lead", START) is not None
    assert await store.active_for("linus", "grace", "product-lead", END) == after
    assert await store.active_for("ada", "grace", "finance", START) == other_role


async def test_two_people_may_delegate_the_same_role_to_one_delegate(
    store: DelegationStore, people: IdentityStore
) -> None:
    await people.add_user("mary", "Mary Jackson", ["product-lead"])

    await _grant(store)
    await _grant(store, "mary")

    assert len(await store.list_for("ada", now=NOW)) == 2


async def test_a_revoked_delegation_no_longer_blocks_a_new_one(store: DelegationStore) -> None:
    first = await _grant(store)
    await store.revoke(first.delegation_id, by="grace", now=NOW + timedelta(minutes=5))

    second = await _grant(store, delegate="linus", now=NOW + timedelta(minutes=10))

    assert await store.active_for("linus", "grace", "product-lead", START) == second
    assert await store.active_for("ada", "grace", "product-lead", START) is None


async def test_concurrent_overlapping_grants_let_exactly_one_through(
    store: DelegationStore, people: IdentityStore
) -> None:
    for n in range(6):
        await people.add_user(f"deputy-{n}", f"Deputy {n}", [])

    outcomes = await asyncio.gather(
        *(_grant(store, delegate=f"deputy-{n}") for n in range(6)), return_exceptions=True
    )

    granted = [o for o in outcomes if isinstance(o, Delegation)]
    refused = [o for o in outcomes if isinstance(o, DelegationOverlaps)]
    assert (len(granted), len(refused)) == (1, 5), outcomes
    assert all(granted[0].delegation_id in str(r) for r in refused)


async def test_a_role_the_principal_does_not_hold_is_refused(store: DelegationStore) -> None:
    with pytest.raises(RoleNotHeld, match="'ada' does not hold role 'product-lead'"):
        await _grant(store, "ada", "grace")

    assert await store.list_for("ada", now=NOW) == []


async def test_delegating_to_oneself_is_refused(store: DelegationStore) -> None:
    with pytest.raises(DelegationInvalid, match="'grace' cannot delegate to themselves") as refused:
        await _grant(store, "grace", "grace")

    assert refused.value.field == "delegate"


async def test_an_unknown_delegate_or_principal_is_refused(store: DelegationStore) -> None:
    with pytest.raises(DelegateNotFound, match="no user 'nobody' to delegate to"):
        await _grant(store, delegate="nobody")
    with pytest.raises(DelegateNotFound):
        await _grant(store, delegate="bad\x00subject")
    with pytest.raises(PrincipalNotFound, match="no user 'ghost'"):
        await _grant(store, "ghost")


async def test_disabled_people_can_neither_give_nor_receive(
    store: DelegationStore, people: IdentityStore
) -> None:
    await people.set_disabled("ada", True)
    with pytest.raises(DelegationUserDisabled, match="'ada' \\(delegate\\) is disabled"):
        await _grant(store)

    await people.set_disabled("ada", False)
    await people.set_disabled("grace", True)
    with pytest.raises(DelegationUserDisabled, match="'grace' \\(principal\\) is disabled"):
        await _grant(store)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_at": START}, "ends_at", "must be later than starts_at"),
        ({"ends_at": START - timedelta(hours=1)}, "ends_at", "must be later than starts_at"),
        ({"starts_at": NOW - TICK}, "starts_at", "is in the past"),
        ({"starts_at": START.replace(tzinfo=None)}, "starts_at", "timezone-aware"),
        ({"ends_at": END.replace(tzinfo=None)}, "ends_at", "timezone-aware"),
        (
            {"ends_at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))},
            "ends_at",
            "outside the range",
        ),
        ({"role": "Product Lead"}, "role", "is not valid"),
        ({"reason": "x" * 2001}, "reason", "at most 2000"),
        ({"reason": "nul\x00"}, "reason", "NUL"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    store: DelegationStore, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(DelegationInvalid, match=message) as refused:
        await _grant(store, **changes)  # type: ignore[arg-type]

    assert refused.value.field == field
    assert isinstance(refused.value, ValueError)
    assert await store.list_for("grace", now=NOW, include_past=True) == []


async def test_a_delegation_that_would_already_be_over_is_refused(
    store: DelegationStore,
) -> None:
    with pytest.raises(DelegationInvalid) as refused:
        await _grant(store, starts_at=NOW - timedelta(days=2), ends_at=NOW)

    assert refused.value.field == "ends_at"
    assert "must be later than now" in str(refused.value)


# -- revoking -----------------------------------------------------------------------------------


async def test_a_revoked_delegation_is_not_active_from_the_moment_of_revocation(
    store: DelegationStore,
) -> None:
    granted = await _grant(store, starts_at=NOW)
    revoked_at = NOW + timedelta(days=2)

    record = await store.revoke(granted.delegation_id, by="grace", now=revoked_at)

    assert (record.revoked_at, record.revoked_by) == (revoked_at, "grace")
    assert record.state_at(revoked_at) == "revoked"
    assert await store.active_for("ada", "grace", "product-lead", revoked_at) is None
    assert await store.active_for("ada", "grace", "product-lead", END - TICK) is None
    # A question about an earlier moment still gets the answer that held then.
    assert await store.active_for("ada", "grace", "product-lead", revoked_at - TICK) == granted


async def test_only_the_principal_or_an_admin_may_revoke(store: DelegationStore) -> None:
    granted = await _grant(store)

    with pytest.raises(DelegationRevokeForbidden, match="only its principal \\('grace'\\)"):
        await store.revoke(granted.delegation_id, by="ada", now=NOW)
    with pytest.raises(DelegationRevokeForbidden):
        await store.revoke(granted.delegation_id, by="linus", now=NOW)
    assert (await store.get(granted.delegation_id)).revoked_at is None  # type: ignore[union-attr]

    record = await store.revoke(granted.delegation_id, by="root", now=NOW, by_admin=True)
    assert record.revoked_by == "root"


async def test_revoking_again_keeps_the_first_revocation(store: DelegationStore) -> None:
    granted = await _grant(store)
    first = await store.revoke(granted.delegation_id, by="grace", now=NOW)

    again = await store.revoke(
        granted.delegation_id, by="root", now=NOW + timedelta(hours=1), by_admin=True
    )

    assert again == first


async def test_revoking_an_unknown_delegation_is_refused(store: DelegationStore) -> None:
    with pytest.raises(DelegationNotFound, match="no delegation 'abcdefabcdef'"):
        await store.revoke("abcdefabcdef", by="grace", now=NOW)
    with pytest.raises(DelegationNotFound):
        await store.revoke("not an id\x00", by="grace", now=NOW)
    assert await store.get("not an id") is None


# -- listing ------------------------------------------------------------------------------------


async def test_a_person_sees_what_they_gave_and_received_current_and_scheduled_by_default(
    store: DelegationStore, people: IdentityStore
) -> None:
    await people.add_user("mary", "Mary Jackson", ["product-lead"])
    given = await _grant(store)
    received = await _grant(store, "mary", "grace", starts_at=NOW, ends_at=START)
    ended = await _grant(
        store, "grace", "linus", "finance", starts_at=NOW + timedelta(hours=1), ends_at=START
    )
    revoked = await _grant(
        store, "grace", "linus", "finance", starts_at=START + timedelta(hours=1), ends_at=END
    )
    await store.revoke(revoked.delegation_id, by="grace", now=NOW)
    later = START + TICK

    current = await store.list_for("grace", now=later)
    everything = await store.list_for("grace", now=later, include_past=True)

    assert [r.delegation_id for r in current] == [given.delegation_id]
    assert [r.delegation_id for r in everything] == [
        received.delegation_id,
        ended.delegation_id,
        given.delegation_id,
        revoked.delegation_id,
    ]
    assert [r.state_at(later) for r in everything] == ["ended", "ended", "active", "revoked"]
    assert [r.delegation_id for r in await store.list_for("mary", now=NOW)] == [
        received.delegation_id
    ]
    assert await store.list_for("nobody", now=NOW) == []
    assert await store.list_for("bad\x00", now=NOW) == []


async def test_a_record_is_scheduled_before_its_start(store: DelegationStore) -> None:
    granted = await _grant(store)
    record = await store.get(granted.delegation_id)

    assert record is not None
    assert record.state_at(NOW) == "scheduled"
    assert record.state_at(START) == "active"
    assert record.state_at(END) == "ended"


# -- the table itself ---------------------------------------------------------------------------


async def test_the_database_refuses_overlaps_and_self_delegation_from_any_writer(
    store: DelegationStore, app_pool: asyncpg.Pool
) -> None:
    granted = await _grant(store)
    insert = (
        "INSERT INTO delegations (delegation_id, principal, delegate, role, starts_at, ends_at)"
        " VALUES ($1, $2, $3, 'product-lead', $4, $5)"
    )

    with pytest.raises(asyncpg.ExclusionViolationError):
        await app_pool.execute(insert, "aaaaaaaaaaaa", "grace", "linus", START, END)
    with pytest.raises(asyncpg.CheckViolationError, match="not_to_self"):
        await app_pool.execute(insert, "bbbbbbbbbbbb", "grace", "grace", END, END + TICK)
    with pytest.raises(asyncpg.CheckViolationError, match="period"):
        await app_pool.execute(insert, "cccccccccccc", "grace", "linus", END, END)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await app_pool.execute(insert, "dddddddddddd", "grace", "nobody", END, END + TICK)
    await app_pool.execute(
        "UPDATE delegations SET revoked_at = $2, revoked_by = 'grace' WHERE delegation_id = $1",
        granted.delegation_id,
        NOW,
    )
    await app_pool.execute(insert, "eeeeeeeeeeee", "grace", "linus", START, END)


async def test_the_application_role_cannot_delete_delegations(
    store: DelegationStore, app_pool: asyncpg.Pool
) -> None:
    await _grant(store)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute("DELETE FROM delegations")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute("TRUNCATE delegations")
    assert len(await store.list_for("grace", now=NOW)) == 1


def test_refusals_survive_pickling() -> None:
    record = DelegationRecord(
        delegation_id="abcdefabcdef",
        principal="grace",
        principal_name="Grace Hopper",
        delegate="ada",
        delegate_name="Ada Lovelace",
        role="product-lead",
        starts_at=START,
        ends_at=END,
        reason="",
        created_at=NOW,
        revoked_at=None,
        revoked_by=None,
    )
    refusals: list[DelegationError] = [
        DelegationInvalid("ends_at", "ends_at must be later"),
        PrincipalNotFound("ghost", "principal"),
        DelegateNotFound("nobody", "delegate"),
        DelegationUserDisabled("ada", "delegate"),
        RoleNotHeld("ada", "finance"),
        DelegationOverlaps(record),
        DelegationNotFound("abcdefabcdef"),
        DelegationRevokeForbidden("abcdefabcdef", "ada", "grace"),
    ]

    for refusal in refusals:
        copy = pickle.loads(pickle.dumps(refusal))
        assert type(copy) is type(refusal)
        assert str(copy) == str(refusal)
