"""The canonical encodings: fixed test vectors for outside verifiers, and Python == SQL."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest

from store.event_store import EventStore
from store.hashing import (
    GENESIS_HASH,
    canonical_chain_bytes,
    canonical_content_bytes,
    canonical_json,
    canonical_json_many,
    chain_hash,
    compute_hash,
    content_digest,
    content_digests,
    hash_of,
    recorded_at_micros,
)
from tests.store.factories import new_event

FIRST = {
    "stream_id": "product-42",
    "event_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
    "type": "ProductRegistered",
    "schema_version": 1,
    "data": {"name": "Zoë"},
    "metadata": {"actor": "pm@example.com"},
    "recorded_at": datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
}
FIRST_DIGEST = "3ba45cc77e82ec12857248215be69aa5124c88b11b28930920cef89f43979ab8"
FIRST_HASH = "4a07d3bbf7b632db1949677b91c9c6a562c55c1c79cf804200cd864ca2cfb6ac"
SECOND = {
    **FIRST,
    "event_id": uuid.UUID("00000000-0000-4000-8000-000000000002"),
    "type": "SignOffGiven",
    "data": {"score": 0.5, "decision": "approve"},
    "recorded_at": datetime(1, 1, 1, tzinfo=UTC),
}
SECOND_DIGEST = "5ce7c5d60228a22a77818fdeb1051aa6c3b069ef682fc9a9b6bcac2c340d3a0d"
SECOND_HASH = "aaf91c62722847c2c2e460f4e1edb219147b31136037a6909045c9ee77f11e22"


def test_documented_test_vector() -> None:
    """Pinned bytes and hashes: changing either encoding breaks every stored chain."""
    assert canonical_content_bytes(**FIRST) == (  # type: ignore[arg-type]
        b"18:lifecycle.event.v2,10:product-42,"
        b"16:\x00\x00\x00\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x01,"
        b'17:ProductRegistered,1:1,15:{"name":"Zo\xc3\xab"},26:{"actor":"pm@example.com"},'
        b"16:1735787045000006,"
    )
    first_digest = content_digest(**FIRST)  # type: ignore[arg-type]
    assert first_digest.hex() == FIRST_DIGEST
    assert canonical_chain_bytes(
        position=1, stream_version=1, prev_hash=GENESIS_HASH, content_digest=first_digest
    ) == (
        b"lifecycle.chain.v2"
        + b"\x00\x00\x00\x00\x00\x00\x00\x01"
        + b"\x00\x00\x00\x01"
        + b"\x00" * 32
        + bytes.fromhex(FIRST_DIGEST)
    )
    assert chain_hash(GENESIS_HASH, position=1, stream_version=1, content_digest=first_digest) == (
        FIRST_HASH
    )
    assert compute_hash(GENESIS_HASH, position=1, stream_version=1, **FIRST) == FIRST_HASH  # type: ignore[arg-type]

    assert b",18:-62135596800000000," in canonical_content_bytes(**SECOND)  # type: ignore[arg-type]
    second_digest = content_digest(**SECOND)  # type: ignore[arg-type]
    assert second_digest.hex() == SECOND_DIGEST
    assert chain_hash(FIRST_HASH, position=2, stream_version=2, content_digest=second_digest) == (
        SECOND_HASH
    )


def test_the_encoding_is_plain_sha256_over_the_documented_bytes() -> None:
    """What an outside verifier writes from the docstring alone gives our hashes."""

    def netstring(raw: bytes) -> bytes:
        return str(len(raw)).encode() + b":" + raw + b","

    fields = [
        b"lifecycle.event.v2",
        b"product-42",
        FIRST["event_id"].bytes,  # type: ignore[attr-defined]
        b"ProductRegistered",
        b"1",
        '{"name":"Zoë"}'.encode(),
        b'{"actor":"pm@example.com"}',
        b"1735787045000006",
    ]
    digest = hashlib.sha256(b"".join(netstring(f) for f in fields)).digest()
    assert digest.hex() == FIRST_DIGEST
    record = b"lifecycle.chain.v2" + (1).to_bytes(8, "big") + (1).to_bytes(4, "big")
    record += bytes(32) + digest
    assert len(record) == 94
    assert hashlib.sha256(record).hexdigest() == FIRST_HASH


def test_every_field_changes_its_level() -> None:
    """Content fields move the content digest; place fields move only the chain hash."""
    base = content_digest(**FIRST)  # type: ignore[arg-type]
    for field, other in (
        ("stream_id", "product-43"),
        ("event_id", uuid.UUID(int=7)),
        ("type", "ProductRenamed"),
        ("schema_version", 2),
        ("data", {"name": "Zoe"}),
        ("metadata", {"actor": "mallory@example.com"}),
        ("recorded_at", FIRST["recorded_at"] + timedelta(microseconds=1)),  # type: ignore[operator]
    ):
        assert content_digest(**{**FIRST, field: other}) != base, field  # type: ignore[arg-type]
    link = chain_hash(GENESIS_HASH, position=1, stream_version=1, content_digest=base)
    for place in (
        {"prev_hash": "1" * 64, "position": 1, "stream_version": 1},
        {"prev_hash": GENESIS_HASH, "position": 2, "stream_version": 1},
        {"prev_hash": GENESIS_HASH, "position": 1, "stream_version": 2},
    ):
        prev = place.pop("prev_hash")
        assert chain_hash(prev, content_digest=base, **place) != link, place  # type: ignore[arg-type]


def test_length_prefixes_keep_fields_apart() -> None:
    """Moving text from one field into its neighbour gives another digest."""
    one = content_digest(**{**FIRST, "stream_id": "ab", "type": "c"})  # type: ignore[arg-type]
    two = content_digest(**{**FIRST, "stream_id": "a", "type": "bc"})  # type: ignore[arg-type]
    assert one != two


def test_json_text_is_hashed_as_given() -> None:
    as_text = {**FIRST, "data": '{"name":"Zoë"}', "metadata": '{"actor":"pm@example.com"}'}
    assert content_digest(**as_text).hex() == FIRST_DIGEST  # type: ignore[arg-type]
    spaced = {**as_text, "data": '{"name": "Zoë"}'}
    assert content_digest(**spaced).hex() != FIRST_DIGEST  # type: ignore[arg-type]


def test_chain_record_needs_whole_hashes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        canonical_chain_bytes(position=1, stream_version=1, prev_hash="ab", content_digest=b"")
    with pytest.raises(ValueError, match="non-hexadecimal"):
        chain_hash("zz" * 32, position=1, stream_version=1, content_digest=bytes(32))


def test_batch_functions_agree_with_the_single_event_ones() -> None:
    """The writer digests a batch in one call; rows may change stream midway."""
    rng = random.Random(7)
    cases = [_random_content(rng, i) for i in range(20)]
    for case in cases[10:]:
        case["stream_id"] = cases[9]["stream_id"]
    rows = [tuple(case.values()) for case in cases]
    assert content_digests(rows) == [content_digest(**case) for case in cases]  # type: ignore[arg-type]
    values = [{"n": i, "x": [1.5, None, "é"]} for i in range(5)]
    assert canonical_json_many(values) == [canonical_json(v) for v in values]
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(ValueError, match="refers to itself"):
        canonical_json_many([{}, looped])


def test_canonical_json_matches_the_standard_library() -> None:
    value = {"b": [1.5, 1e16, -0.0, None, True, 'é\u2028\x00"\\'], "a": {"z": 1, "y": 2**70}}
    expected = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    assert canonical_json(value) == expected
    assert json.loads(expected) == value
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": {1, 2}})
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(ValueError, match="refers to itself"):
        canonical_json(looped)


def test_timestamps_are_utc_microseconds_since_the_epoch() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert recorded_at_micros(datetime(1970, 1, 1, 2, 0, 0, 5, tzinfo=plus_two)) == 5
    assert recorded_at_micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1
    assert recorded_at_micros(datetime(1, 1, 1, tzinfo=UTC)) == -62_135_596_800_000_000
    assert recorded_at_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == (
        253_402_300_799_999_999
    )
    with pytest.raises(ValueError, match="timezone"):
        recorded_at_micros(datetime(2025, 1, 1))


def _random_text(rng: random.Random) -> str:
    alphabet = "aZ9 -_.:,\"\\'\n\t\u00e9\u00df\u4e2d\u05d0\u200b\u2028\U0001f600\u0301"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


def _random_content(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "stream_id": _random_text(rng),
        "event_id": uuid.UUID(int=rng.getrandbits(128)),
        "type": _random_text(rng),
        "schema_version": rng.randint(-(2**31), 2**31 - 1),
        "data": canonical_json({_random_text(rng): [_random_text(rng), rng.random() * 10**i]}),
        "metadata": canonical_json({"actor": _random_text(rng)}),
        # Up to the last microsecond before 9999-12-31T23:59:59.999999, which asyncpg sends as
        # 'infinity'.
        "recorded_at": datetime(1, 1, 1, tzinfo=UTC)
        + timedelta(microseconds=rng.randint(0, 315_537_897_599_999_998)),
    }


async def test_sql_and_python_content_digest_agree(app_pool: asyncpg.Pool) -> None:
    """``event_content_digest()`` lets the log be checked in SQL alone; it must agree."""
    rng = random.Random(20250301)
    sql = "SELECT event_content_digest($1, $2, $3, $4, $5, $6, $7)"
    async with app_pool.acquire() as conn:
        for i in range(200):
            case = _random_content(rng, i)
            stored = await conn.fetchval(sql, *case.values())
            assert stored == content_digest(**case), case  # type: ignore[arg-type]


async def test_sql_and_python_chain_hash_agree(app_pool: asyncpg.Pool) -> None:
    rng = random.Random(20250302)
    sql = "SELECT event_chain_hash($1, $2, $3, $4)"
    async with app_pool.acquire() as conn:
        for _ in range(200):
            position = rng.randint(1, 2**63 - 1)
            version = rng.randint(1, 2**31 - 1)
            prev = f"{rng.getrandbits(256):064x}"
            digest = rng.randbytes(32)
            python = chain_hash(
                prev, position=position, stream_version=version, content_digest=digest
            )
            assert await conn.fetchval(sql, position, version, prev, digest) == python


async def test_stored_hashes_are_the_python_hashes(
    event_store: EventStore, app_pool: asyncpg.Pool
) -> None:
    """Both append paths (single event and batch) store what compute_hash gives, and the
    content digest the writer sent is the one the SQL reference computes from the row."""
    await event_store.append("s", 0, [new_event(0, data={"π": 3.14159, "n": [2**64]})])
    await event_store.append("s", 1, [new_event(n) for n in range(1, 5)])
    await event_store.append("t", 0, [new_event(9, metadata={"ключ": "значение ✓"})])
    events = await event_store.read_all()
    assert [hash_of(e) for e in events] == [e.hash for e in events]
    mismatched = await app_pool.fetch(
        "SELECT position FROM events WHERE content_digest <> event_content_digest("
        " stream_id, event_id, type, schema_version, data::text, metadata::text, recorded_at)"
    )
    assert mismatched == []
    assert await app_pool.fetchval("SELECT count(*) FROM events") == 6
