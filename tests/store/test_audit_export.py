"""An export verified offline by a verifier written from docs/audit.md alone.

`OfflineVerifier` imports nothing of ours (no store.hashing, no store.audit): if our encoding
and the documented procedure ever disagree, these tests fail.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import struct
import uuid
from collections.abc import Iterable, Mapping

import asyncpg
import pytest

from store.audit_export import ExportFormat, export_records, render
from store.event_store import EventStore
from tests.store.factories import new_event, new_events

GENESIS = "0" * 64


def netstring(raw: bytes) -> bytes:
    return str(len(raw)).encode("ascii") + b":" + raw + b","


def offline_problems(records: Iterable[Mapping[str, str]], *, whole_log: bool) -> list[str]:
    """docs/audit.md, steps 1-3: one sentence per record that fails, naming its position."""
    problems: list[str] = []
    previous_hash, expected_position = GENESIS, 1
    for record in records:
        position = int(record["position"])
        content = b"".join(
            netstring(part)
            for part in (
                b"lifecycle.event.v2",
                record["stream_id"].encode(),
                uuid.UUID(record["event_id"]).bytes,
                record["type"].encode(),
                str(record["schema_version"]).encode(),
                record["data"].encode(),
                record["metadata"].encode(),
                str(record["recorded_at_micros"]).encode(),
            )
        )
        if hashlib.sha256(content).hexdigest() != record["content_digest"]:
            problems.append(f"{position}: content edited")
        chain = (
            b"lifecycle.chain.v2"
            + struct.pack(">qi", position, int(record["stream_version"]))
            + bytes.fromhex(record["prev_hash"])
            + bytes.fromhex(record["content_digest"])
        )
        if hashlib.sha256(chain).hexdigest() != record["hash"]:
            problems.append(f"{position}: hash does not match")
        if whole_log and (position != expected_position or record["prev_hash"] != previous_hash):
            problems.append(f"{position}: chain broken")
        previous_hash, expected_position = record["hash"], position + 1
    return problems


def parse(text: str, fmt: ExportFormat) -> list[dict[str, str]]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    return [json.loads(line) for line in text.splitlines()]


async def exported(pool: asyncpg.Pool, fmt: ExportFormat, product_id: str | None = None) -> str:
    async with pool.acquire() as conn:
        return "".join([chunk async for chunk in render(export_records(conn, product_id), fmt)])


async def fill(store: EventStore) -> None:
    """Two products' streams interleaved, with awkward text (commas, quotes, newlines,
    non-ASCII) in the data, and a stream that is not a product's."""
    tricky = new_event(data={"title": 'Säule, "quoted"\nnext line', "n": 1.5})
    await store.append("product-atlas", 0, [*new_events(3), tricky])
    await store.append("product-beacon", 0, new_events(4, start=10))
    await store.append("product-atlas", 4, new_events(2, start=20))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_an_export_verifies_offline_with_the_documented_procedure(
    event_store: EventStore, app_pool: asyncpg.Pool, fmt: ExportFormat
) -> None:
    await fill(event_store)

    records = parse(await exported(app_pool, fmt), fmt)

    assert [int(r["position"]) for r in records] == list(range(1, 11))
    assert offline_problems(records, whole_log=True) == []
    assert records[-1]["hash"] == (await event_store.head())[1]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_a_products_export_holds_its_rows_each_verifying_in_stream_order(
    event_store: EventStore, app_pool: asyncpg.Pool, fmt: ExportFormat
) -> None:
    await fill(event_store)

    records = parse(await exported(app_pool, fmt, "atlas"), fmt)

    assert {r["stream_id"] for r in records} == {"product-atlas"}
    assert [int(r["stream_version"]) for r in records] == list(range(1, 7))
    assert offline_problems(records, whole_log=False) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_an_edited_export_line_is_named_by_the_offline_verifier(
    event_store: EventStore, app_pool: asyncpg.Pool, fmt: ExportFormat
) -> None:
    await fill(event_store)
    text = await exported(app_pool, fmt)
    records = parse(text, fmt)

    edited_data = [dict(r) for r in records]
    edited_data[5]["data"] = edited_data[5]["data"].replace('"n":', '"n":9')
    dropped = [r for r in records if r["position"] not in ("7", 7)]
    swapped = [*records[:2], records[3], records[2], *records[4:]]

    assert records[5]["data"] != edited_data[5]["data"]
    assert offline_problems(edited_data, whole_log=True) == ["6: content edited"]
    assert offline_problems(dropped, whole_log=True) == ["8: chain broken"]
    assert offline_problems(swapped, whole_log=True)[0] == "4: chain broken"
