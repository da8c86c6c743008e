"""How a product's state is kept in its ``product_states`` row: without its playbook, which
``product_state_playbooks`` keeps once per fingerprint (migration 0010).

A playbook is most of a state's JSON and most of the cost of parsing it, and every product
under the same playbook version holds the same one. Kept apart, a reader parses each playbook
once per process, and a page of the board reads a fraction of the bytes.

Playbooks are keyed by the fingerprint the state carries, which the domain computes from the
playbook when a product registers or adopts a version; the cache of parsed playbooks is per
process and holds only what the table holds, so it never goes stale: a fingerprint always
names the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from domain.playbook import Playbook
from domain.state import ProductState

_READ = """
SELECT fingerprint, playbook::text AS playbook FROM public.product_state_playbooks
 WHERE fingerprint = ANY($1::text[])
"""
_STORED = "SELECT fingerprint FROM public.product_state_playbooks WHERE fingerprint = ANY($1)"
_ADD = """
INSERT INTO public.product_state_playbooks (fingerprint, playbook) VALUES ($1, $2::json)
ON CONFLICT (fingerprint) DO NOTHING
"""

_parsed: dict[str, Playbook] = {}


class StoredState:
    """A ``product_states`` row's state JSON and the fingerprint of the playbook left out of
    it (None: the state holds its playbook, as rows written before migration 0010 do)."""

    __slots__ = ("fingerprint", "json")

    def __init__(self, json: str, fingerprint: str | None) -> None:
        self.json = json
        self.fingerprint = fingerprint


def fingerprint_of(state: ProductState) -> str:
    """The fingerprint naming ``state``'s playbook: the one the domain recorded, or (for a
    state that has none recorded) the playbook's own."""
    assert state.playbook is not None
    return state.playbook_fingerprint or state.playbook.fingerprint()


def stored_state(state: ProductState) -> StoredState:
    """The row's form of a folded state (which has a playbook)."""
    without = state.model_copy(update={"playbook": None})
    return StoredState(without.model_dump_json(), fingerprint_of(state))


async def keep_playbooks(conn: asyncpg.Connection, states: Iterable[ProductState]) -> None:
    """Adds the playbooks of ``states`` that the table lacks, in the caller's transaction, so
    that the rows naming them can be written next. One small query when all are kept."""
    by_fingerprint = {fingerprint_of(s): s.playbook for s in states if s.playbook is not None}
    if not by_fingerprint:
        return
    kept = {row["fingerprint"] for row in await conn.fetch(_STORED, list(by_fingerprint))}
    missing = [
        (fingerprint, playbook.model_dump_json())
        for fingerprint, playbook in by_fingerprint.items()
        if fingerprint not in kept and playbook is not None
    ]
    if missing:
        await conn.executemany(_ADD, missing)


async def read_states(
    conn: asyncpg.Pool | asyncpg.Connection, rows: Sequence[StoredState]
) -> list[ProductState]:
    """The states of ``rows``, each with its playbook: parsed once per process, fetched (in one
    query) only for fingerprints this process has not seen yet."""
    unseen = sorted({r.fingerprint for r in rows if r.fingerprint and r.fingerprint not in _parsed})
    if unseen:
        for found in await conn.fetch(_READ, unseen):
            _parsed[found["fingerprint"]] = Playbook.model_validate_json(found["playbook"])
    return [_state_of(row) for row in rows]


def _state_of(row: StoredState) -> ProductState:
    state = ProductState.model_validate_json(row.json)
    if row.fingerprint is None:
        return state
    playbook = _parsed.get(row.fingerprint)
    if playbook is None:  # the foreign key makes this impossible short of a hand-edited table
        raise LookupError(f"playbook {row.fingerprint} of product {state.product_id} is not kept")
    return state.model_copy(update={"playbook": playbook})


def stored_states(rows: Iterable[asyncpg.Record]) -> list[StoredState]:
    """Rows selected with ``state::text AS state, playbook_fingerprint``."""
    return [StoredState(row["state"], row["playbook_fingerprint"]) for row in rows]
