"""The canonical encoding of an event and its chained SHA-256 hash.

This is the contract an auditor relies on to check the log without our code, so it is spelled
out here and implemented twice: in Python below and in SQL (``event_hash()`` in
``store/migrations/0001_event_store.sql``, which the append path uses); a test keeps them equal.

Canonical encoding (version ``lifecycle.event.v1``)
---------------------------------------------------
The bytes hashed for one event are the concatenation of eleven *netstrings*, one per field, in
this order. A netstring of a text ``t`` is ``<n>:<t>,`` where ``t`` is UTF-8 encoded and ``<n>`` is
its length in bytes written in ASCII decimal. Length prefixes make the encoding unambiguous
whatever characters a field holds.

 1. the literal ``lifecycle.event.v1``
 2. position: decimal integer, e.g. ``42``
 3. stream_id: as stored
 4. stream_version: decimal integer
 5. event_id: the UUID in lowercase hex with hyphens (36 characters)
 6. type: as stored
 7. schema_version: decimal integer (a leading ``-`` if negative)
 8. data: the JSON text exactly as stored in the ``data`` column
 9. metadata: the JSON text exactly as stored in the ``metadata`` column
10. recorded_at: UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits)
11. prev_hash: the previous event's hash, 64 lowercase hex digits; for position 1 it is
    ``GENESIS_HASH`` (64 zeros)

``hash = lowercase hex of SHA-256(those bytes)``.

The JSON texts are hashed as stored, not re-serialised, so a verifier never has to reproduce
anyone's float formatting. Our writer stores ``canonical_json()`` output (sorted keys, no
whitespace, UTF-8 rather than ``\\u`` escapes, no NaN/Infinity); Postgres' ``json`` type keeps
that text byte for byte (``jsonb`` would not).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.events import RecordedEvent

ENCODING_VERSION = "lifecycle.event.v1"
GENESIS_HASH = "0" * 64

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


def format_recorded_at(value: datetime) -> str:
    """UTC with microseconds, zero-padded; written by hand because ``strftime('%Y')`` does not
    pad years below 1000 on every platform."""
    if value.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def _netstring(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"%d:%b," % (len(raw), raw)


def canonical_event_bytes(
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
    prev_hash: str,
) -> bytes:
    """The exact bytes hashed for one event (see the module docstring).

    ``data``/``metadata`` given as ``str`` are taken as the stored JSON text; given as mappings
    they are serialised with ``canonical_json`` first, which reproduces what our writer stored.
    """
    data_text = data if isinstance(data, str) else canonical_json(data)
    metadata_text = metadata if isinstance(metadata, str) else canonical_json(metadata)
    return b"".join(
        _netstring(field)
        for field in (
            ENCODING_VERSION,
            str(position),
            stream_id,
            str(stream_version),
            str(event_id),
            type,
            str(schema_version),
            data_text,
            metadata_text,
            format_recorded_at(recorded_at),
            prev_hash,
        )
    )


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
    """Hex SHA-256 of the canonical encoding, chained to ``prev_hash``."""
    encoded = canonical_event_bytes(
        position=position,
        stream_id=stream_id,
        stream_version=stream_version,
        event_id=event_id,
        type=type,
        schema_version=schema_version,
        data=data,
        metadata=metadata,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
    )
    return hashlib.sha256(encoded).hexdigest()


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
