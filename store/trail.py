"""The decision trail: a product's or the whole portfolio's events, filtered and paged.

An auditor asks "who signed what at the launch gate last quarter": the filters (time range,
actor, event type, gate) are applied in SQL so a page costs one indexed scan, and paging is by
a cursor (the last position, or stream version, returned) rather than an offset, so a page never
shifts while the log grows.

Sign-offs, revocations, decisions and migrations to another playbook version also carry their
*manifestation* in the manner of 21 CFR Part 11 §11.50: the signer's printed name, when, what
the signature means, and why; and the playbook (name, version) in force when it was given (the
one registered under, or the latest adopted since), so the entry reads on its own.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import Event
from domain.stages import Stage

__all__ = [
    "EVENT_TYPES",
    "Manifestation",
    "PlaybookInForce",
    "TrailEntry",
    "TrailFilter",
    "TrailPage",
    "UnreadableEvent",
    "read_trail",
    "trail_query",
]

PRODUCT_STREAM_PREFIX = "product-"
MAX_PAGE = 500


class UnreadableEvent(Exception):
    """An event in a product's stream that the domain cannot read or fold: the past cannot be
    reconstructed past it (a bug to fix, or an event written around the store's rules)."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"the event at position {position} cannot be read: {problem}")
        self.position = position
        self.problem = problem


def _event_types() -> frozenset[str]:
    """Every event type the domain defines, read off its discriminated union."""
    union = get_args(Event)[0]
    return frozenset(str(member.model_fields["type"].default) for member in get_args(union))


EVENT_TYPES: frozenset[str] = _event_types()

_MEANINGS = {
    "approve": "approval: the signer approves passing the gate",
    "reject": "rejection: the signer refuses passing the gate",
    "review": "review: the signer has read the gate's evidence, neither approving nor rejecting",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrailFilter(_Frozen):
    """What to keep; every filter given must hold (``None``/empty means any)."""

    product_id: str | None = None
    since: datetime | None = None  # inclusive, on the event's recorded (workflow) time
    until: datetime | None = None  # inclusive
    actor: str | None = None  # the acting subject, or the principal a delegate signed for
    types: tuple[str, ...] = ()
    gate: Stage | None = None  # events about the gate closing this stage


class Manifestation(_Frozen):
    """The signature manifestation (Part 11 §11.50): printed name, time, meaning, reason."""

    printed_name: str
    subject: str
    role: str | None
    signed_at: datetime
    meaning: str
    reason: str
    on_behalf_of: str | None = None  # printed name of the principal, when a delegate signed


class PlaybookInForce(_Frozen):
    name: str | None
    version: int | None


class TrailEntry(_Frozen):
    position: int
    stream_version: int
    product_id: str | None
    event_id: str
    type: str
    recorded_at: datetime
    actor: dict[str, Any]
    data: dict[str, Any]
    hash: str
    manifestation: Manifestation | None = None
    playbook: PlaybookInForce | None = None


class TrailPage(_Frozen):
    """One page; ``next_after`` is the cursor of the next page, ``None`` on the last."""

    product_id: str | None
    events: list[TrailEntry]
    next_after: int | None


_COLUMNS = (
    "position, stream_id, stream_version, event_id, type, data::text AS data, recorded_at, hash"
)

# The events that put a playbook in force: registration, and adopting another version (rare).
_PLAYBOOKS = """
SELECT stream_id, stream_version,
       public.event_field_text(data, 'playbook', 'name') AS name,
       public.event_field_text(data, 'playbook', 'version') AS version
  FROM public.events
 WHERE stream_id = ANY($1::text[]) AND type IN ('ProductRegistered', 'PlaybookAdopted')
 ORDER BY stream_id, stream_version
"""

# Per stream, (from stream version, playbook name, playbook version), in stream order.
_InForce = dict[str, list[tuple[int, str | None, int | None]]]


def stream_of(product_id: str) -> str:
    return PRODUCT_STREAM_PREFIX + product_id


def _where(flt: TrailFilter, cursor: str, after: int) -> tuple[list[str], list[Any]]:
    """Fixed SQL fragments with numbered parameters; values never enter the text."""
    args: list[Any] = [after]
    conditions = [f"{cursor} > $1::bigint"]

    def add(fragment: str, value: Any) -> None:
        args.append(value)
        conditions.append(fragment.replace("$?", f"${len(args)}"))

    if flt.product_id is not None:
        add("stream_id = $?", stream_of(flt.product_id))
    else:
        conditions.append(f"stream_id LIKE '{PRODUCT_STREAM_PREFIX}%'")
    if flt.since is not None:
        add("recorded_at >= $?", flt.since)
    if flt.until is not None:
        add("recorded_at <= $?", flt.until)
    if flt.types:
        add("type = ANY($?::text[])", list(flt.types))
    if flt.actor is not None:
        add(
            "(public.event_subject(data, 'actor') = $?"
            " OR public.event_subject(data, 'on_behalf_of') = $?)",
            flt.actor,
        )
    if flt.gate is not None:
        add("public.event_field_text(data, 'gate') = $?", flt.gate.value)
    return conditions, args


def trail_query(
    flt: TrailFilter, *, cursor: Literal["position", "stream_version"], after: int, limit: int
) -> tuple[str, list[Any]]:
    """The SQL of a trail page and its parameters. The actor filter's expressions are the ones
    migration 0008 indexes; a page of a person's trail is an index lookup only while they match."""
    conditions, args = _where(flt, cursor, after)
    args.append(limit)
    query = (
        f"SELECT {_COLUMNS} FROM public.events WHERE {' AND '.join(conditions)} "
        f"ORDER BY {cursor} LIMIT ${len(args)}"
    )
    return query, args


async def read_trail(
    pool: asyncpg.Pool | asyncpg.Connection,
    flt: TrailFilter,
    *,
    after: int = 0,
    limit: int = 50,
    cursor: Literal["position", "stream_version"] = "position",
) -> TrailPage:
    """Up to ``limit`` events matching ``flt`` whose ``cursor`` column is above ``after``, in
    log order. ``stream_version`` cursors need ``flt.product_id`` (one stream)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if cursor == "stream_version" and flt.product_id is None:
        raise ValueError("a stream-version cursor pages one product's trail only")
    unknown = sorted(set(flt.types) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event type(s): {', '.join(unknown)}")
    query, args = trail_query(flt, cursor=cursor, after=after, limit=limit + 1)
    rows = await pool.fetch(query, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    playbooks = await _playbooks(pool, {row["stream_id"] for row in rows})
    entries = [_entry(row, _in_force(playbooks, row)) for row in rows]
    next_after = rows[-1][cursor] if more and rows else None
    return TrailPage(product_id=flt.product_id, events=entries, next_after=next_after)


async def _playbooks(pool: asyncpg.Pool | asyncpg.Connection, streams: set[str]) -> _InForce:
    """Each product's playbooks over time: the one it registered under and each it adopted."""
    if not streams:
        return {}
    found: _InForce = {}
    for row in await pool.fetch(_PLAYBOOKS, sorted(streams)):
        version = None if row["version"] is None else int(row["version"])
        found.setdefault(row["stream_id"], []).append((row["stream_version"], row["name"], version))
    return found


def _in_force(playbooks: _InForce, row: asyncpg.Record) -> tuple[str | None, int | None] | None:
    """The playbook in force when the event in ``row`` happened."""
    current = None
    for since, name, version in playbooks.get(row["stream_id"], ()):
        if since > row["stream_version"]:
            break
        current = (name, version)
    return current


def _entry(row: asyncpg.Record, in_force: tuple[str | None, int | None] | None) -> TrailEntry:
    data: dict[str, Any] = json.loads(row["data"])
    stream_id: str = row["stream_id"]
    product_id = (
        stream_id.removeprefix(PRODUCT_STREAM_PREFIX)
        if stream_id.startswith(PRODUCT_STREAM_PREFIX)
        else None
    )
    manifestation = manifestation_of(row["type"], data)
    playbook = None
    if manifestation is not None:
        name, version = in_force or (None, None)
        stated = data.get("playbook_version")  # sign-offs and decisions say it themselves
        playbook = PlaybookInForce(
            name=name, version=stated if isinstance(stated, int) else version
        )
    actor = data.get("actor")
    return TrailEntry(
        position=row["position"],
        stream_version=row["stream_version"],
        product_id=product_id,
        event_id=str(row["event_id"]),
        type=row["type"],
        recorded_at=row["recorded_at"],
        actor=dict(actor) if isinstance(actor, dict) else {},
        data=data,
        hash=row["hash"],
        manifestation=manifestation,
        playbook=playbook,
    )


def manifestation_of(event_type: str, data: dict[str, Any]) -> Manifestation | None:
    """The signature manifestation of a sign-off, its withdrawal, a gate decision, or a
    migration to another playbook version."""
    if event_type == "SignOffGiven":
        verdict = str(data.get("verdict"))
        meaning = _MEANINGS.get(verdict, verdict)
    elif event_type == "SignOffRevoked":
        meaning = f"withdrawal of the signature of {data.get('voter')}"
    elif event_type == "GateDecided":
        outcome = str(data.get("outcome")).replace("_", " ")
        how = " (automatic)" if data.get("automatic") else ""
        meaning = f"gate decision{how}: {outcome}"
    elif event_type == "PlaybookAdopted":
        playbook = data.get("playbook") or {}
        meaning = (
            f"playbook migration: from v{data.get('from_version')} to v{playbook.get('version')}"
            f" (effective {str(data.get('effective')).replace('_', ' ')})"
        )
    else:
        return None
    actor = data.get("actor") or {}
    principal = data.get("on_behalf_of") or {}
    return Manifestation.model_validate(
        {
            "printed_name": str(actor.get("display_name", "")),
            "subject": str(actor.get("subject", "")),
            "role": actor.get("role"),
            "signed_at": data.get("occurred_at"),
            "meaning": meaning,
            "reason": str(data.get("reason", "")),
            "on_behalf_of": principal.get("display_name") if isinstance(principal, dict) else None,
        }
    )
