"""How a product's state is kept in its ``product_states`` row: without its playbooks (the one
it runs under and the newer version it waits to adopt, if any), which ``product_state_playbooks``
keeps once per fingerprint (migration 0010).

A playbook is most of a state's JSON and most of the cost of parsing it, and every product
under the same playbook version holds the same one. Kept apart, a reader parses each playbook
once per process, and a load of the board reads a fraction of the bytes.

A row names its playbooks by the fingerprint the domain recorded (``Playbook.fingerprint()``,
the SHA-256 of the canonical form). A reader checks each playbook it reads from the table has
the fingerprint it is kept under before it trusts it, so a wrong or tampered row is refused
rather than served; the per-process cache holds only playbooks that passed, and a fingerprint
names the same rules in every database, so it never goes stale. A rebuild wipes the table with
the states (``store/projection_checkpoint.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

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


class KeptPlaybookMismatch(RuntimeError):
    """A kept playbook does not have the fingerprint it is kept under: the read model is wrong
    (edited by hand, or written by a faulty process) and must be rebuilt."""

    def __init__(self, fingerprint: str, actual: str) -> None:
        super().__init__(
            f"the read model keeps a playbook under fingerprint {fingerprint} whose rules have "
            f"fingerprint {actual}; rebuild the projection (lifecycle projections rebuild)"
        )
        self.fingerprint = fingerprint


class StoredState(NamedTuple):
    """A ``product_states`` row's state JSON and the fingerprints of the playbooks left out of
    it (None: the state holds that playbook itself, as rows written before migration 0010 do,
    or has none pending)."""

    json: str
    fingerprint: str | None
    pending_fingerprint: str | None


def fingerprint_of(state: ProductState) -> str:
    """The fingerprint naming ``state``'s playbook: the one the domain recorded, or (for a
    state that has none recorded) the playbook's own."""
    assert state.playbook is not None
    return state.playbook_fingerprint or state.playbook.fingerprint()


def stored_state(state: ProductState, kept: set[str]) -> StoredState:
    """The row's form of a folded state (which has a playbook): without those of its playbooks
    whose fingerprints are in ``kept`` (see ``keep_playbooks``)."""
    left_out: dict[str, None] = {}
    fingerprint = fingerprint_of(state)
    if fingerprint in kept:
        left_out["playbook"] = None
    pending = None if state.pending_playbook is None else state.pending_playbook.fingerprint()
    if pending in kept:
        left_out["pending_playbook"] = None
    return StoredState(
        state.model_copy(update=left_out).model_dump_json(),
        fingerprint if "playbook" in left_out else None,
        pending if "pending_playbook" in left_out else None,
    )


def _playbooks_of(state: ProductState) -> Iterable[tuple[str, Playbook]]:
    if state.playbook is not None:
        yield fingerprint_of(state), state.playbook
    if state.pending_playbook is not None:
        yield state.pending_playbook.fingerprint(), state.pending_playbook


async def keep_playbooks(conn: asyncpg.Connection, states: Iterable[ProductState]) -> set[str]:
    """Adds the playbooks of ``states`` that the table lacks, in the caller's transaction, so
    that the rows naming them can be written next; returns the fingerprints kept. One small
    query when all are kept already. A playbook is added only if its rules have the fingerprint
    the state recorded for it; one that does not stays in its state's row, as before migration
    0010. Added in fingerprint order, so two writers adding the same ones cannot deadlock."""
    by_fingerprint = dict(pair for state in states for pair in _playbooks_of(state))
    if not by_fingerprint:
        return set()
    kept = {row["fingerprint"] for row in await conn.fetch(_STORED, list(by_fingerprint))}
    adding = sorted(
        fingerprint
        for fingerprint in by_fingerprint.keys() - kept
        if by_fingerprint[fingerprint].fingerprint() == fingerprint
    )
    if adding:
        rows = [(f, by_fingerprint[f].model_dump_json()) for f in adding]
        await conn.executemany(_ADD, rows)
    return kept | set(adding)


async def read_states(
    conn: asyncpg.Pool | asyncpg.Connection, rows: Sequence[StoredState]
) -> list[ProductState]:
    """The states of ``rows``, each with its playbooks: parsed and checked once per process,
    fetched (in one query) only for fingerprints this process has not seen yet."""
    named = {f for r in rows for f in (r.fingerprint, r.pending_fingerprint) if f is not None}
    unseen = sorted(named - _parsed.keys())
    if unseen:
        for found in await conn.fetch(_READ, unseen):
            playbook = Playbook.model_validate_json(found["playbook"])
            actual = playbook.fingerprint()
            if actual != found["fingerprint"]:
                raise KeptPlaybookMismatch(found["fingerprint"], actual)
            _parsed[actual] = playbook
    return [_state_of(row) for row in rows]


def _state_of(row: StoredState) -> ProductState:
    state = ProductState.model_validate_json(row.json)
    kept: dict[str, Playbook] = {}
    if row.fingerprint is not None:
        kept["playbook"] = _kept(row.fingerprint, state)
    if row.pending_fingerprint is not None:
        kept["pending_playbook"] = _kept(row.pending_fingerprint, state)
    return state.model_copy(update=kept) if kept else state


def _kept(fingerprint: str, state: ProductState) -> Playbook:
    playbook = _parsed.get(fingerprint)
    if playbook is None:  # the foreign keys make this impossible short of a hand-edited table
        raise LookupError(f"playbook {fingerprint} of product {state.product_id} is not kept")
    return playbook


def stored_states(rows: Iterable[asyncpg.Record]) -> list[StoredState]:
    """Rows selected with ``state::text AS state, playbook_fingerprint,
    pending_playbook_fingerprint``."""
    return [
        StoredState(row["state"], row["playbook_fingerprint"], row["pending_playbook_fingerprint"])
        for row in rows
    ]


def forget_parsed_playbooks() -> None:
    """Empties this process's cache of parsed playbooks; for tests that read the table."""
    _parsed.clear()
