"""A projection's checkpoint: the last log position its rows include, and the lock every
projector takes on it before writing rows, so only one writes at a time and each sees where the
last one stopped. ``REBUILDING`` (-1) with a ``rebuild_id`` marks rows a parallel rebuild owns
(migration 0007)."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import asyncpg

__all__ = [
    "REBUILDING",
    "Checkpoint",
    "RebuildInProgress",
    "advance_checkpoint",
    "lock_checkpoint",
    "mark_rebuilding",
    "read_checkpoint",
    "still_rebuilding",
    "wipe_product_states",
]

REBUILDING = -1

_LOCK = """
SELECT position, rebuild_id, xmin::text AS written_by
  FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE
"""
_CREATE = """
INSERT INTO public.projection_checkpoints (name, position) VALUES ($1, 0)
ON CONFLICT (name) DO NOTHING
"""
_READ = "SELECT position FROM public.projection_checkpoints WHERE name = $1"
_ADVANCE = """
UPDATE public.projection_checkpoints SET position = $2, rebuild_id = NULL WHERE name = $1
RETURNING xmin::text
"""
_MARK = "UPDATE public.projection_checkpoints SET position = -1, rebuild_id = $2 WHERE name = $1"
_STILL_REBUILDING = """
SELECT 1 FROM public.projection_checkpoints
 WHERE name = $1 AND position = -1 AND rebuild_id = $2
   FOR SHARE
"""
# The kept playbooks go with the states that name them (migration 0010): a rebuild writes both
# again from the log, so one kept wrongly cannot outlive it.
_WIPE = "DELETE FROM public.product_states; DELETE FROM public.product_state_playbooks"


class Checkpoint(NamedTuple):
    """The checkpoint row as locked. ``written_by`` (the row's xmin) changes with every write,
    even one that sets the same position again: what a projector keeping states compares."""

    position: int
    rebuild_id: uuid.UUID | None
    written_by: str


class RebuildInProgress(RuntimeError):
    """A parallel rebuild owns the rows; another rebuild must be told to take over."""

    def __init__(self, name: str, rebuild_id: uuid.UUID | None) -> None:
        super().__init__(
            f"projection {name} is being rebuilt (rebuild {rebuild_id}); if that rebuild was "
            "interrupted, take over with --force"
        )
        self.name = name
        self.rebuild_id = rebuild_id


async def lock_checkpoint(conn: asyncpg.Connection, name: str) -> Checkpoint:
    """The checkpoint, locked until the caller's transaction ends."""
    row = await conn.fetchrow(_LOCK, name)
    if row is None:  # the migration seeds the row; recreate it if someone removed it
        await conn.execute(_CREATE, name)
        row = await conn.fetchrow(_LOCK, name)
    assert row is not None
    return Checkpoint(int(row["position"]), row["rebuild_id"], row["written_by"])


async def read_checkpoint(pool: asyncpg.Pool | asyncpg.Connection, name: str) -> int:
    """The checkpoint as last committed (0 before the first event)."""
    position = await pool.fetchval(_READ, name)
    return 0 if position is None else int(position)


async def advance_checkpoint(conn: asyncpg.Connection, name: str, position: int) -> str:
    """Set the (locked) checkpoint, ending any rebuild's mark; returns the new ``written_by``."""
    written_by: str = await conn.fetchval(_ADVANCE, name, position)
    return written_by


async def mark_rebuilding(conn: asyncpg.Connection, name: str, rebuild_id: uuid.UUID) -> None:
    await conn.execute(_MARK, name, rebuild_id)


async def still_rebuilding(conn: asyncpg.Connection, name: str, rebuild_id: uuid.UUID) -> bool:
    """Does ``rebuild_id`` still own the rows? Holds a share lock on the mark until the caller's
    transaction ends, so a rebuild taking over waits for the write in progress."""
    return await conn.fetchval(_STILL_REBUILDING, name, rebuild_id) is not None


async def wipe_product_states(conn: asyncpg.Connection) -> None:
    await conn.execute(_WIPE)
