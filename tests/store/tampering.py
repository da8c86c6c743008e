"""Tampering with the event log the only way it can be done: as the database owner, with the
append-only triggers switched off for the statement. Shared by the store's and the CLI's
tamper-evidence tests."""

from __future__ import annotations

import uuid

import asyncpg

from store.hashing import chain_hash, content_digest

LOG_SIZE = 30
PARK = 1_000_000  # positions must stay positive (a CHECK), so rows are parked up high


async def tamper(owner: asyncpg.Connection, *statements: str) -> None:
    async with owner.transaction():
        await owner.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        for statement in statements:
            await owner.execute(statement)
        await owner.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


def shift_positions(at_or_after: int, by: int) -> list[str]:
    """Statements moving rows >= at_or_after by ``by`` without tripping the primary key."""
    return [
        f"UPDATE events SET position = position + {PARK} WHERE position >= {at_or_after}",
        f"UPDATE events SET position = position - {PARK} + ({by}) WHERE position > {PARK}",
    ]


def rehash(prev_hash: str, row: asyncpg.Record | dict[str, object]) -> tuple[str, bytes]:
    """(hash, content_digest) a forger computes for a row's fields, chained to ``prev_hash``."""
    fields = dict(row)
    digest = content_digest(
        stream_id=fields["stream_id"],
        event_id=fields["event_id"],
        type=fields["type"],
        schema_version=fields["schema_version"],
        data=fields["data"],
        metadata=fields["metadata"],
        recorded_at=fields["recorded_at"],
    )
    link = chain_hash(
        prev_hash,
        position=fields["position"],
        stream_version=fields["stream_version"],
        content_digest=digest,
    )
    return link, digest


ROW_QUERY = (
    "SELECT position, stream_id, stream_version, event_id, type, schema_version,"
    " data::text AS data, metadata::text AS metadata, recorded_at FROM events"
)


async def forged_row(owner: asyncpg.Connection, position: int, prev_hash: str) -> str:
    """An INSERT of a plausible event at ``position`` whose hashes are correctly computed."""
    event_id = uuid.uuid4()
    recorded_at = await owner.fetchval("SELECT now()")
    fields = {
        "position": position,
        "stream_id": "a",
        "stream_version": 99,
        "event_id": event_id,
        "type": "SignOffGiven",
        "schema_version": 1,
        "data": '{"forged":true}',
        "metadata": "{}",
        "recorded_at": recorded_at,
    }
    link, digest = rehash(prev_hash, fields)
    return (
        "INSERT INTO events VALUES "
        f"({position}, 'a', 99, '{event_id}', 'SignOffGiven', 1, '{{\"forged\":true}}', '{{}}', "
        f"'{recorded_at.isoformat()}', '{prev_hash}', '{link}', '\\x{digest.hex()}')"
    )


async def hash_at(owner: asyncpg.Connection, position: int) -> str:
    value = await owner.fetchval("SELECT hash FROM events WHERE position = $1", position)
    assert isinstance(value, str)
    return value
