"""The trail's reader: filters in SQL, cursor pages, and refusals of what it cannot page."""

from __future__ import annotations

import json

import asyncpg
import pytest

from domain.stages import Stage
from store.event_store import EventStore
from store.trail import TrailFilter, read_trail, trail_query
from tests.store.factories import T0, new_event


async def test_pages_follow_the_cursor_and_filters_combine(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    grace = {"subject": "grace", "display_name": "Grace", "role": "product-lead"}
    signed = {"gate": "discovery", "actor": grace, "verdict": "approve", "reason": "ok"}
    await event_store.append("product-atlas", 0, [new_event(1), new_event(2)])
    await event_store.append("audit-notes", 0, [new_event(3)])
    await event_store.append(
        "product-beacon",
        0,
        [new_event(4, type="SignOffGiven", data={**signed, "occurred_at": T0.isoformat()})],
    )

    first = await read_trail(app_pool, TrailFilter(), limit=2)
    rest = await read_trail(app_pool, TrailFilter(), after=first.next_after or 0, limit=2)
    by_grace = await read_trail(app_pool, TrailFilter(actor="grace", types=("SignOffGiven",)))
    too_late = await read_trail(app_pool, TrailFilter(since=T0.replace(year=2030)))

    assert [e.position for e in first.events] == [1, 2]
    assert first.next_after == 2
    assert [e.position for e in rest.events] == [4]  # not a product's stream: not in the trail
    assert rest.next_after is None
    assert [(e.product_id, e.type) for e in by_grace.events] == [("beacon", "SignOffGiven")]
    assert by_grace.events[0].manifestation is not None
    assert by_grace.events[0].manifestation.printed_name == "Grace"
    assert too_late.events == []


@pytest.mark.parametrize(
    ("flt", "kwargs", "message"),
    [
        (TrailFilter(), {"limit": 0}, "limit"),
        (TrailFilter(), {"cursor": "stream_version"}, "one product"),
        (TrailFilter(types=("Bribed",)), {}, "Bribed"),
    ],
)
async def test_what_cannot_be_paged_is_refused(
    app_pool: asyncpg.Pool, flt: TrailFilter, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await read_trail(app_pool, flt, **kwargs)  # type: ignore[arg-type]


async def test_the_playbook_in_force_follows_a_migration_to_a_newer_version(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    ann = {"subject": "ann", "display_name": "Ann Admin", "role": "admin"}
    when = {"occurred_at": T0.isoformat(), "actor": ann, "reason": "why not"}
    await event_store.append(
        "product-atlas",
        0,
        [
            new_event(1, type="ProductRegistered", data={"playbook": {"name": "pb", "version": 1}}),
            new_event(2, type="SignOffRevoked", data={**when, "voter": "grace"}),
            new_event(
                3,
                type="PlaybookAdopted",
                data={
                    **when,
                    "playbook": {"name": "pb", "version": 2},
                    "from_version": 1,
                    "effective": "now",
                },
            ),
            new_event(4, type="GateDecided", data={**when, "outcome": "go"}),
        ],
    )

    page = await read_trail(app_pool, TrailFilter(product_id="atlas"))

    signed = {e.type: (e.playbook, e.manifestation) for e in page.events}
    revoked, adopted, decided = (
        signed["SignOffRevoked"],
        signed["PlaybookAdopted"],
        signed["GateDecided"],
    )
    assert revoked[0] is not None
    assert (revoked[0].name, revoked[0].version) == ("pb", 1)
    assert adopted[1] is not None
    assert adopted[1].meaning == "playbook migration: from v1 to v2 (effective now)"
    assert decided[0] is not None
    assert (decided[0].name, decided[0].version) == ("pb", 2)
    assert signed["ProductRegistered"] == (None, None)


async def test_a_persons_trail_is_read_through_the_actor_indexes_not_by_walking_the_log(
    event_store: EventStore, app_pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    """Migration 0008 indexes the actor filter's expressions; if the filter's SQL drifts from
    them, a rare person's page walks the whole log again, and this plan shows it."""
    pat = {"subject": "pat", "display_name": "Pat", "role": "product-manager"}
    for batch in range(4):
        await event_store.append(
            "product-busy",
            batch * 500,
            [new_event(n, data={"actor": pat, "n": n}) for n in range(500)],
        )
    ada = {"subject": "ada", "display_name": "Ada", "role": "product-lead"}
    dev = {"subject": "dev", "display_name": "Dev", "role": "product-lead"}
    await event_store.append(
        "product-rare", 0, [new_event(1, data={"actor": dev, "on_behalf_of": ada, "n": 1})]
    )
    await owner.execute("ANALYZE public.events")

    plans = {}
    for person in ("ada", "dev"):
        query, args = trail_query(TrailFilter(actor=person), cursor="position", after=0, limit=51)
        plan = await app_pool.fetchval(f"EXPLAIN (FORMAT JSON) {query}", *args)
        plans[person] = json.dumps(json.loads(plan))
    page = await read_trail(app_pool, TrailFilter(actor="ada"))

    for plan in plans.values():
        assert "events_actor_subject_idx" in plan
        assert "events_on_behalf_of_subject_idx" in plan
        assert "events_pkey" not in plan
    assert [(e.product_id, e.actor["subject"]) for e in page.events] == [("rare", "dev")]


async def test_an_event_holding_a_nul_is_stored_and_still_found_on_its_persons_trail(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    """Postgres reads no field of a JSON text with a \\u0000 escape; the actor indexes must not
    turn that into a refused append, nor hide the event from its person's trail."""
    ada = {"subject": "ada", "display_name": "Ada", "role": "product-lead"}
    await event_store.append(
        "product-odd", 0, [new_event(1, data={"actor": ada, "note": "nul\u0000 here"})]
    )
    await event_store.append("product-odd", 1, [new_event(2, data={"actor": ada, "n": 2})])
    bell = {"actor": ada, "note": "bell\u0007 and a \\u0000 written out"}  # escaped, not a NUL
    await event_store.append("product-odd", 2, [new_event(3, data=bell)])

    page = await read_trail(app_pool, TrailFilter(actor="ada"))

    assert [e.position for e in page.events] == [1, 2, 3]


async def test_a_document_no_reading_can_take_a_subject_from_answers_none_instead_of_failing(
    app_pool: asyncpg.Pool,
) -> None:
    """The json type keeps a lone surrogate escape that no field can be read past; the index
    expression must answer, or such an append (by another writer than ours) would be refused."""
    lone_surrogate = '{"actor": {"subject": "ada"}, "note": "\\ud800"}'
    nul_in_subject = '{"actor": {"subject": "a\\u0000da"}}'

    unreadable = await app_pool.fetchval(
        "SELECT public.event_subject($1::json, 'actor')", lone_surrogate
    )
    mended = await app_pool.fetchval(
        "SELECT public.event_subject($1::json, 'actor')", nul_in_subject
    )

    assert unreadable is None
    assert mended == "a\ufffdda"


async def test_a_gate_filter_and_the_playbook_in_force_read_past_an_event_holding_a_nul(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    """Postgres takes no field out of a JSON text with a \\u0000 escape, so a plain data->>'gate'
    would fail the whole page on meeting such an event; the NUL is read as U+FFFD instead."""
    ann = {"subject": "ann", "display_name": "Ann", "role": "product-lead"}
    decided = {"occurred_at": T0.isoformat(), "actor": ann, "reason": "ok", "outcome": "go"}
    pb = {"name": "pb\u0000", "version": 3}
    await event_store.append(
        "product-odd",
        0,
        [
            new_event(1, type="ProductRegistered", data={"playbook": pb, "note": "nul\u0000"}),
            new_event(2, type="GateDecided", data={**decided, "gate": "launch", "n": "\u0000"}),
            new_event(3, type="GateDecided", data={**decided, "gate": "launch"}),
            new_event(4, type="GateDecided", data={**decided, "gate": "growth", "n": "\u0000"}),
        ],
    )

    launch = await read_trail(app_pool, TrailFilter(gate=Stage.LAUNCH))

    assert [e.position for e in launch.events] == [2, 3]
    in_force = launch.events[0].playbook
    assert in_force is not None
    assert (in_force.name, in_force.version) == ("pb\ufffd", 3)
