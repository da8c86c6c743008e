"""The canonical encoding of an event and its chained SHA-256 hash.

This is the contract an auditor relies on to check the log without our code, so it is spelled
out here and implemented twice: in Python below and in SQL (``event_content_digest()`` and
``event_chain_hash()`` in ``store/migrations/0001_event_store.sql``); tests keep them equal.

Two levels (version ``lifecycle.event.v2``)
-------------------------------------------
Each event carries two SHA-256 values:

* ``content_digest`` (32 bytes, column ``content_digest``) covers *what was said*: the fields a
  writer hands in, which do not depend on where the event lands in the log. The writer computes
  it (``hashlib``) and passes it to ``append_events()``, so the database never hashes a payload.
* ``hash`` (64 lowercase hex digits, column ``hash``) covers *where it landed*: its position,
  its stream version, the previous event's hash and the content digest. ``append_events()``
  computes it under the append lock, the only place the position and predecessor are known.

Content encoding
~~~~~~~~~~~~~~~~
The bytes digested are the concatenation of eight *netstrings*, in this order. A netstring of a
byte string ``b`` is ``<n>:<b>,`` where ``<n>`` is its length in bytes written in ASCII decimal;
text is UTF-8 encoded first. Length prefixes make the encoding unambiguous whatever the fields
hold.

 1. the literal ``lifecycle.event.v2``
 2. stream_id: as stored
 3. event_id: the UUID's 16 bytes in network order (RFC 9562; ``uuid.UUID.bytes``,
    ``uuid_send()`` in Postgres)
 4. type: as stored
 5. schema_version: decimal integer (a leading ``-`` if negative)
 6. data: the JSON text exactly as stored in the ``data`` column
 7. metadata: the JSON text exactly as stored in the ``metadata`` column
 8. recorded_at: whole microseconds since 1970-01-01T00:00:00Z, decimal integer (negative
    before 1970)

``content_digest = SHA-256(those bytes)``.

Chain encoding
~~~~~~~~~~~~~~
The bytes hashed are a fixed 94-byte record:

 1. the 18 ASCII bytes ``lifecycle.chain.v2``
 2. position: 8 bytes, big-endian two's complement
 3. stream_version: 4 bytes, big-endian two's complement
 4. prev_hash: the previous event's hash as 32 bytes (hex-decoded); for position 1 it is
    ``GENESIS_HASH`` (32 zero bytes)
 5. content_digest: 32 bytes

``hash = lowercase hex of SHA-256(that record)``.

A verifier recomputes both: a content field edited after the append no longer matches
``content_digest``; an edited position, stream version or digest no longer matches ``hash``;
deleted, inserted or reordered rows break the ``prev_hash`` links. The database seals the digest
the writer gave without recomputing it, so a writer that passed a wrong digest produces an event
that fails verification at its position, like an edit would; it cannot produce an event that
verifies with content other than what is stored.

The JSON texts are hashed as stored, not re-serialised, so a verifier never has to reproduce
anyone's float formatting. Our writer stores ``canonical_json()`` output (sorted keys, no
whitespace, UTF-8 rather than ``\\u`` escapes, no NaN/Infinity); Postgres' ``json`` type keeps
that text byte for byte (``jsonb`` would not).
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.events import RecordedEvent

ENCODING_VERSION = "lifecycle.event.v2"
CHAIN_TAG = b"lifecycle.chain.v2"
GENESIS_HASH = "0" * 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CONTENT_HEAD = b"%d:%b," % (len(ENCODING_VERSION), ENCODING_VERSION.encode("ascii"))
_CHAIN_NUMBERS = struct.Struct(">qi")
_sha256 = hashlib.sha256

_json_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# JSONEncoder.encode builds a fresh C encoder on every call, which costs as much as encoding a
# small event; appending 100-event batches is hot enough to keep one. Same C function, same
# arguments as JSONEncoder uses, so the output is identical (a test checks). Without the
# circular-reference table a cycle ends in RecursionError instead of ValueError.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode: Any = (
    _c_make_encoder(
        None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if _c_make_encoder is not None
    else None
)


def canonical_json(value: Mapping[str, Any]) -> str:
    """Serialise event data the one way we store it; raises ``ValueError``/``TypeError`` for
    content JSON cannot carry faithfully (NaN, infinities, non-JSON types)."""
    if _c_encode is None:
        return _json_encoder.encode(value)
    try:
        return "".join(_c_encode(value, 0))
    except RecursionError as exc:
        raise ValueError("event data is nested too deeply or refers to itself") from exc


def canonical_json_many(values: Iterable[Mapping[str, Any]]) -> list[str]:
    """``canonical_json`` of each value, without a Python call per value (a writer's batch)."""
    if _c_encode is None:
        return [_json_encoder.encode(value) for value in values]
    join, encode = "".join, _c_encode
    try:
        return [join(encode(value, 0)) for value in values]
    except RecursionError as exc:
        raise ValueError("event data is nested too deeply or refers to itself") from exc


def recorded_at_micros(value: datetime) -> int:
    """``recorded_at`` as the encoding has it: whole microseconds since the Unix epoch."""
    if value.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    return (value - _EPOCH) // _MICROSECOND


# The fields of the content encoding, in its order: stream_id, event_id, type, schema_version,
# data (stored JSON text), metadata (stored JSON text), recorded_at (timezone-aware).
ContentFields = tuple[str, uuid.UUID, str, int, str, str, datetime]


def content_encodings(rows: Iterable[ContentFields]) -> list[bytes]:
    """The content encoding of each row: the one implementation, used by the writer for a
    batch and by the verifiers one event at a time. A naive ``recorded_at`` raises
    ``TypeError``; text that cannot be UTF-8 encoded raises ``UnicodeEncodeError``."""
    encoded = []
    last_stream_id: str | None = None
    head = b""
    for stream_id, event_id, type_, schema_version, data, metadata, recorded_at in rows:
        if stream_id is not last_stream_id:
            stream_raw = stream_id.encode("utf-8")
            head = b"%b%d:%b," % (_CONTENT_HEAD, len(stream_raw), stream_raw)
            last_stream_id = stream_id
        type_raw = type_.encode("utf-8")
        version_raw = b"%d" % schema_version
        data_raw = data.encode("utf-8")
        metadata_raw = metadata.encode("utf-8")
        micros_raw = b"%d" % ((recorded_at - _EPOCH) // _MICROSECOND)
        encoded.append(
            b"%b16:%b,%d:%b,%d:%b,%d:%b,%d:%b,%d:%b,"
            % (
                head,
                event_id.bytes,
                len(type_raw),
                type_raw,
                len(version_raw),
                version_raw,
                len(data_raw),
                data_raw,
                len(metadata_raw),
                metadata_raw,
                len(micros_raw),
                micros_raw,
            )
        )
    return encoded


def content_digests(rows: Iterable[ContentFields]) -> list[bytes]:
    """SHA-256 (32 bytes) of each row's content encoding."""
    sha256 = _sha256
    return [sha256(content).digest() for content in content_encodings(rows)]


def _content_fields(
    stream_id: str,
    event_id: uuid.UUID,
    type: str,
    schema_version: int,
    data: str | Mapping[str, Any],
    metadata: str | Mapping[str, Any],
    recorded_at: datetime,
) -> ContentFields:
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    return (
        stream_id,
        event_id,
        type,
        schema_version,
        data if isinstance(data, str) else canonical_json(data),
        metadata if isinstance(metadata, str) else canonical_json(metadata),
        recorded_at,
    )


def canonical_content_bytes(
    *,
    stream_id: str,
    event_id: uuid.UUID,
    type: str,
    schema_version: int,
    data: str | Mapping[str, Any],
    metadata: str | Mapping[str, Any],
    recorded_at: datetime,
) -> bytes:
    """The exact bytes of one event's content digest (see the module docstring).

    ``data``/``metadata`` given as ``str`` are taken as the stored JSON text; given as mappings
    they are serialised with ``canonical_json`` first, which reproduces what our writer stored.
    """
    fields = _content_fields(stream_id, event_id, type, schema_version, data, metadata, recorded_at)
    return content_encodings((fields,))[0]


def content_digest(
    *,
    stream_id: str,
    event_id: uuid.UUID,
    type: str,
    schema_version: int,
    data: str | Mapping[str, Any],
    metadata: str | Mapping[str, Any],
    recorded_at: datetime,
) -> bytes:
    """SHA-256 (32 bytes) of one event's content encoding."""
    fields = _content_fields(stream_id, event_id, type, schema_version, data, metadata, recorded_at)
    return content_digests((fields,))[0]


def canonical_chain_bytes(
    *, position: int, stream_version: int, prev_hash: str, content_digest: bytes
) -> bytes:
    """The exact 94 bytes of the chain record (see the module docstring)."""
    prev = bytes.fromhex(prev_hash)
    if len(prev) != 32 or len(content_digest) != 32:
        raise ValueError("prev_hash and content_digest must each be 32 bytes")
    return CHAIN_TAG + _CHAIN_NUMBERS.pack(position, stream_version) + prev + content_digest


def chain_hash(prev_hash: str, *, position: int, stream_version: int, content_digest: bytes) -> str:
    """Hex SHA-256 of the chain record: the event's ``hash``."""
    return _sha256(
        canonical_chain_bytes(
            position=position,
            stream_version=stream_version,
            prev_hash=prev_hash,
            content_digest=content_digest,
        )
    ).hexdigest()


def compute_hash(
    prev_hash: str,
    *,
    position: int,
    stream_id: str,
    stream_version: int,
    event_id: uuid.UUID,
    type: str,
    schema_version: int,
    data: str | Mapping[str, Any],
    metadata: str | Mapping[str, Any],
    recorded_at: datetime,
) -> str:
    """The ``hash`` an event with these fields gets, chained to ``prev_hash`` (both levels)."""
    digest = content_digest(
        stream_id=stream_id,
        event_id=event_id,
        type=type,
        schema_version=schema_version,
        data=data,
        metadata=metadata,
        recorded_at=recorded_at,
    )
    return chain_hash(
        prev_hash, position=position, stream_version=stream_version, content_digest=digest
    )


def hash_of(event: RecordedEvent) -> str:
    """Recompute a read event's hash from its decoded fields (valid for events our writer
    stored, whose JSON text is ``canonical_json`` of the decoded value)."""
    return compute_hash(
        event.prev_hash,
        position=event.position,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        recorded_at=event.recorded_at,
    )
