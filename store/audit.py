"""Verify the event log's hash chain and say what was tampered with, and where.

``verify_chain`` recomputes, for every event, its content digest from the stored fields and its
chain hash from its position, stream version, predecessor and digest (see ``store.hashing`` for
both encodings), checks positions run 1, 2, 3... without gaps and that each event links to its
predecessor, and stops at the first problem. It reads in position order, ``batch_size`` rows
at a time, inside one REPEATABLE READ transaction so the whole check sees one consistent log.

A hash chain alone cannot tell a faithful log from one rewritten wholesale by someone who also
recomputed every later hash; an auditor therefore keeps the head digest ``(position, hash)``
elsewhere and passes it back as ``digest`` to prove the log still extends it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from store.chain_scan import CleanRun, last_position, scan_clean_prefix, snapshot_readers
from store.chain_shares import scan_in_shares
from store.hashing import (
    canonical_chain_bytes,
    canonical_content_bytes,
    chain_hash,
    compute_hash,
    content_digests,
)

__all__ = [
    "ChainVerification",
    "Problem",
    "Progress",
    "canonical_chain_bytes",
    "canonical_content_bytes",
    "compute_hash",
    "verify_chain",
]

Problem = Literal[
    "content edited",
    "row deleted (gap)",
    "row inserted",
    "rows reordered",
    "chain broken",
    "digest mismatch",
]

# Told (events checked, events in the log) as verification goes, e.g. to draw a progress bar.
Progress = Callable[[int, int], None]

# How far a renumbered row may have moved for us to still recognise it.
_MAX_RENUMBER = 16

# A recorded_at no Python datetime can hold (beyond year 9999, never written by us) comes
# back NULL: the row is named as edited instead of failing to decode.
_PAGE = """
SELECT position, stream_id, stream_version, event_id, type, schema_version,
       data::text AS data, metadata::text AS metadata,
       CASE WHEN recorded_at >= '0001-01-01 00:00:00+00' AND recorded_at < '10000-01-01 00:00:00+00'
            OR NOT isfinite(recorded_at) THEN recorded_at END AS recorded_at,
       prev_hash, hash, content_digest
  FROM public.events
 WHERE position > $1
 ORDER BY position
 LIMIT $2
"""

# The fast pass reads smaller pages than the careful one: two pages in flight must fit the
# socket buffers for reading to overlap hashing (measured: 1,000 rows beat 5,000 and 10,000).
_FAST_PAGE = 1_000

_FIND_HASH = "SELECT position FROM public.events WHERE hash = $1 ORDER BY position LIMIT 1"


class ChainVerification(BaseModel):
    """Outcome of a verification. ``head_position``/``head_hash`` are the last event that
    verified (``0``/``GENESIS_HASH`` if none): the digest to keep when ``ok``."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    events_checked: int
    head_position: int
    head_hash: str
    first_bad_position: int | None
    problem: Problem | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime | None
    prev_hash: str
    hash: str
    content_digest: bytes

    def content_intact(self) -> bool:
        """Do the stored fields still give the stored content digest?"""
        if self.recorded_at is None:
            return False
        fields = (
            self.stream_id,
            self.event_id,
            self.type,
            self.schema_version,
            self.data,
            self.metadata,
            self.recorded_at,
        )
        try:
            return content_digests((fields,))[0] == self.content_digest
        except (TypeError, OverflowError):  # an infinite or zoneless recorded_at: not ours
            return False

    def chain(self, *, position: int | None = None) -> str:
        """The hash this row's place, predecessor and stored digest give."""
        return chain_hash(
            self.prev_hash,
            position=self.position if position is None else position,
            stream_version=self.stream_version,
            content_digest=self.content_digest,
        )

    def intact(self) -> bool:
        """Does the row match its own hash, both levels?"""
        return self.chain() == self.hash and self.content_intact()


async def verify_chain(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    *,
    batch_size: int = 10_000,
    digest: tuple[int, str] | None = None,
    progress: Progress | None = None,
    processes: int = 1,
    database_url: str | None = None,
) -> ChainVerification:
    """Recompute the whole chain; ``digest`` is an earlier ``(position, hash)`` head to check.
    ``progress`` is called after each batch with (events checked, last position in the log).

    Given a pool, two of its connections share one snapshot so reading overlaps hashing; given a
    connection, it is the only reader (inside the caller's transaction if one is open).
    ``processes`` above 1 shares a large log's hashing out to that many processes in all
    (``store.chain_shares``), which connect to ``database_url`` and join the same snapshot."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if processes > 1 and database_url is None:
        raise ValueError("verifying in several processes needs the database_url they connect to")
    sharing = _Sharing(processes, database_url) if processes > 1 and database_url else None
    verifier_args = (batch_size, digest, progress, sharing)
    if not isinstance(pool_or_conn, asyncpg.Pool):
        conn = pool_or_conn
        if conn.is_in_transaction():
            if sharing is not None and not await _in_one_snapshot(conn):
                raise ValueError(
                    "verifying in several processes needs the caller's transaction to be "
                    "REPEATABLE READ or SERIALIZABLE: they must all see one log"
                )
            return await _verify([conn], *verifier_args)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await _verify([conn], *verifier_args)
    async with snapshot_readers(pool_or_conn) as readers:
        return await _verify(readers, *verifier_args)


async def _in_one_snapshot(conn: asyncpg.Connection) -> bool:
    isolation = await conn.fetchval("SHOW transaction_isolation")
    return isolation in ("repeatable read", "serializable")


@dataclass(frozen=True)
class _Sharing:
    processes: int
    database_url: str


async def _verify(
    readers: list[asyncpg.Connection],
    batch_size: int,
    digest: tuple[int, str] | None,
    progress: Progress | None,
    sharing: _Sharing | None,
) -> ChainVerification:
    """The fast pass over the intact prefix, then the careful look at whatever stopped it."""
    conn = readers[0]
    last = await last_position(conn)
    if progress is not None:
        progress(0, last)
    page_size = min(batch_size, _FAST_PAGE)
    if sharing is not None:
        clean = await scan_in_shares(
            readers,
            database_url=sharing.database_url,
            processes=sharing.processes,
            page_size=page_size,
            digest=digest,
            last=last,
            on_progress=progress,
        )
    else:
        clean = await scan_clean_prefix(
            readers, page_size=page_size, digest=digest, on_page=progress, until=last
        )
    return await _Verifier(conn, batch_size, digest, progress, clean).run()


class _Verifier:
    """Names the first problem, reading whole rows from where the fast pass stopped."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        batch_size: int,
        digest: tuple[int, str] | None,
        progress: Progress | None,
        clean: CleanRun,
    ) -> None:
        self.conn = conn
        self.batch_size = batch_size
        self.digest = digest
        self.progress = progress
        self.total = clean.last_position
        self.checked = clean.checked
        self.good_position = clean.good_position
        self.good_hash = clean.good_hash
        self.before_good_hash = clean.before_good_hash
        self.stopped = clean.stopped

    async def run(self) -> ChainVerification:
        if self.stopped:
            previous: _Row | None = None
            async for row in self._rows():
                if previous is not None:
                    failure = await self._check(previous, row)
                    if failure is not None:
                        return failure
                previous = row
            if previous is not None:
                failure = await self._check(previous, None)
                if failure is not None:
                    return failure
            if self.progress is not None:
                self.progress(self.checked, self.total)
        if self.digest is not None and self.digest[0] > self.good_position:
            return self._bad(
                self.digest[0],
                "digest mismatch",
                f"the digest names position {self.digest[0]} but the log ends at "
                f"{self.good_position}: events were removed from its end",
            )
        return ChainVerification(
            ok=True,
            events_checked=self.checked,
            head_position=self.good_position,
            head_hash=self.good_hash,
            first_bad_position=None,
            problem=None,
        )

    async def _rows(self) -> AsyncIterator[_Row]:
        after = self.good_position
        while True:
            records = await self.conn.fetch(_PAGE, after, self.batch_size)
            for record in records:
                yield _Row(*record.values())
            if self.progress is not None and records:
                self.progress(self.checked, self.total)
            if len(records) < self.batch_size:
                return
            after = records[-1]["position"]

    async def _check(self, row: _Row, following: _Row | None) -> ChainVerification | None:
        """Check ``row`` (``following`` is the next stored row, for telling kinds apart)."""
        self.checked += 1
        expected = self.good_position + 1
        if row.position != expected:
            return self._bad(
                expected,
                "row deleted (gap)",
                f"position {expected} is missing; the next stored event is at {row.position}",
            )
        if row.prev_hash != self.good_hash:
            return await self._classify_broken_link(row, following)
        if row.chain() != row.hash:
            return self._bad(
                row.position,
                "content edited",
                f"the event at {row.position} no longer matches its hash (its stream version "
                "or content digest was changed)",
            )
        if not row.content_intact():
            return self._bad(
                row.position,
                "content edited",
                f"the fields of the event at {row.position} no longer match its content digest "
                "(edited after it was appended, or appended with a wrong digest)",
            )
        digest = self.digest
        if digest is not None and digest[0] == row.position and digest[1] != row.hash:
            return self._bad(
                row.position,
                "digest mismatch",
                f"the log was rewritten up to position {row.position}: its hash is not "
                "the one in the digest",
            )
        self.before_good_hash = self.good_hash
        self.good_position = row.position
        self.good_hash = row.hash
        return None

    async def _classify_broken_link(self, row: _Row, following: _Row | None) -> ChainVerification:
        p = row.position
        if following is not None and row.prev_hash == following.hash:
            return self._bad(p, "rows reordered", f"event at {p} belongs after event at {p + 1}")
        if following is not None and following.prev_hash == self.good_hash:
            return self._bad(p, "row inserted", f"the chain runs from {p - 1} to {p + 1}")
        before = self.before_good_hash
        if before is not None and row.prev_hash == before:
            return self._bad(
                p - 1, "row inserted", f"the chain runs from {p - 2} to {p}", (p - 2, before)
            )
        found = await self.conn.fetchval(_FIND_HASH, row.prev_hash)
        if found is not None and found > p:
            return self._bad(p, "rows reordered", f"event at {p} belongs after event at {found}")
        if found is not None and found < p - 1:
            return self._bad(
                found + 1,
                "row inserted",
                f"the chain runs from {found} to {p}",
                (found, row.prev_hash),
            )
        for shift in range(1, _MAX_RENUMBER + 1):
            if row.chain(position=p + shift) == row.hash:
                return self._bad(
                    p,
                    "row deleted (gap)",
                    f"{shift} event(s) before position {p} were deleted and later positions "
                    "renumbered to hide the gap",
                )
        if row.intact():
            detail = (
                f"the event at {p} is intact but links to a hash no event has: either the "
                f"event at {p - 1} was edited and re-hashed or this link was rewritten"
            )
        else:
            detail = f"the event at {p} neither links to the one before nor matches its hash"
        return self._bad(p, "chain broken", detail)

    def _bad(
        self,
        position: int,
        problem: Problem,
        detail: str,
        head: tuple[int, str] | None = None,
    ) -> ChainVerification:
        """A failed verification; ``head`` overrides the last good event when the culprit turns
        out to be one that had already passed its own checks."""
        head_position, head_hash = head or (self.good_position, self.good_hash)
        return ChainVerification(
            ok=False,
            events_checked=self.checked,
            head_position=head_position,
            head_hash=head_hash,
            first_bad_position=position,
            problem=problem,
            detail=detail,
        )
