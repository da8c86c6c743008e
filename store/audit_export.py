"""Export the log with its chain data, for a third party to verify offline.

Each exported event carries every field the two hash levels cover, exactly as stored (the JSON
texts verbatim, ``recorded_at`` also as whole microseconds), plus the stored digest and hashes,
so ``docs/audit.md``'s procedure can recompute both without our code or our server.

The whole log exported in position order is a chain from the genesis hash: complete and
unaltered up to a digest the auditor holds if every row recomputes, each links to the one before
and the last row's position and hash are the digest's. A single product's export holds only that
product's rows: each row still recomputes, and its stream versions must run 1, 2, 3..., but
whether its latest events were all exported can only be settled against the full log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from store.hashing import recorded_at_micros
from store.trail import stream_of

__all__ = [
    "EXPORT_COLUMNS",
    "ChainRecord",
    "ExportFormat",
    "csv_header",
    "csv_line",
    "export_records",
    "jsonl_line",
    "render",
]

ExportFormat = Literal["jsonl", "csv"]

EXPORT_COLUMNS = (
    "position",
    "stream_id",
    "stream_version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "recorded_at_micros",
    "content_digest",
    "prev_hash",
    "hash",
)

_SELECT = """
SELECT position, stream_id, stream_version, event_id, type, schema_version,
       data::text AS data, metadata::text AS metadata, recorded_at, content_digest,
       prev_hash, hash
  FROM public.events
 WHERE position > $1 {stream}
 ORDER BY position
 LIMIT {limit}
"""


class ChainRecord(BaseModel):
    """One exported event: the canonical fields as stored, and its chain data (hex)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    stream_id: str
    stream_version: int
    event_id: str
    type: str
    schema_version: int
    data: str  # the stored JSON text, verbatim
    metadata: str
    recorded_at: str  # ISO 8601 UTC, for people
    recorded_at_micros: int  # what the content digest covers
    content_digest: str
    prev_hash: str
    hash: str


def _record(row: asyncpg.Record) -> ChainRecord:
    # Built from our own table's typed columns: skip re-validating every field (hot on export).
    return ChainRecord.model_construct(
        position=row["position"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=str(row["event_id"]),
        type=row["type"],
        schema_version=row["schema_version"],
        data=row["data"],
        metadata=row["metadata"],
        recorded_at=row["recorded_at"].isoformat(timespec="microseconds"),
        recorded_at_micros=recorded_at_micros(row["recorded_at"]),
        content_digest=bytes(row["content_digest"]).hex(),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


async def export_records(
    conn: asyncpg.Connection, product_id: str | None = None, *, batch_size: int = 1000
) -> AsyncIterator[ChainRecord]:
    """Every event (or one product's), in position order, from one consistent snapshot."""
    stream_clause = "AND stream_id = $2" if product_id is not None else ""
    query = _SELECT.format(stream=stream_clause, limit=int(batch_size))
    args: tuple[str, ...] = (stream_of(product_id),) if product_id is not None else ()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        after = 0
        while True:
            rows = await conn.fetch(query, after, *args)
            for row in rows:
                yield _record(row)
            if len(rows) < batch_size:
                return
            after = rows[-1]["position"]


def jsonl_line(record: ChainRecord) -> str:
    body = record.model_dump()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_header() -> str:
    return _csv_row(EXPORT_COLUMNS)


def csv_line(record: ChainRecord) -> str:
    body = record.model_dump()
    return _csv_row([str(body[column]) for column in EXPORT_COLUMNS])


def _csv_row(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


async def render(records: AsyncIterator[ChainRecord], fmt: ExportFormat) -> AsyncIterator[str]:
    """The export as text chunks: one JSON object per line, or a CSV with a header row."""
    if fmt == "csv":
        yield csv_header()
    line = csv_line if fmt == "csv" else jsonl_line
    async for record in records:
        yield line(record)
