"""A projection's checkpoint: the last log position its rows include, and the lock every
projector takes on it before writing rows, so only one writes at a time and each sees where the
last one stopped. ``REBUILDING`` (-1) marks rows a parallel rebuild owns (migration 0007)."""

from __future__ import annotations

import asyncpg

__all__ = [
    "REBUILDING",
    "advance_checkpoint",
    "lock_checkpoint",
    "read_checkpoint",
    "wipe_product_states",
]

REBUILDING = -1

_LOCK = "SELECT position FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE"
_CREATE = """
INSERT INTO public.projection_checkpoints (name, position) VALUES ($1, 0)
ON CONFLICT (name) DO NOTHING
"""
_READ = "SELECT position FROM public.projection_checkpoints WHERE name = $1"
_ADVANCE = "UPDATE public.projection_checkpoints SET position = $2 WHERE name = $1"
_WIPE = "DELETE FROM public.product_states"


async def lock_checkpoint(conn: asyncpg.Connection, name: str) -> int:
    """The checkpoint, locked until the caller's transaction ends."""
    position = await conn.fetchval(_LOCK, name)
    if position is None:  # the migration seeds the row; recreate it if someone removed it
        await conn.execute(_CREATE, name)
        position = await conn.fetchval(_LOCK, name)
    return int(position)


async def read_checkpoint(pool: asyncpg.Pool | asyncpg.Connection, name: str) -> int:
    """The checkpoint as last committed (0 before the first event)."""
    position = await pool.fetchval(_READ, name)
    return 0 if position is None else int(position)


async def advance_checkpoint(conn: asyncpg.Connection, name: str, position: int) -> None:
    await conn.execute(_ADVANCE, name, position)


async def wipe_product_states(conn: asyncpg.Connection) -> None:
    await conn.execute(_WIPE)
