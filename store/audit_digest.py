"""The digest document an auditor keeps: the log's head (position, hash), optionally signed.

A digest is only worth keeping outside the system; signing it with an Ed25519 key that only
the issuer holds lets the auditor later show the digest they hold is the one that was issued
(and not one an insider produced after rewriting the log). The signed message is spelled out in
``DigestDocument.signed_message`` and ``docs/audit.md`` so it can be checked with any Ed25519
tool, e.g. ``openssl pkeyutl -verify -rawin``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "DIGEST_FORMAT",
    "DigestDocument",
    "DigestError",
    "DigestSignature",
    "load_digest",
    "load_private_key",
    "load_public_key",
]

DIGEST_FORMAT = "lifecycle.audit.digest.v1"


class DigestError(Exception):
    """A digest, key or signature that cannot be used; the message says which and why."""


class DigestSignature(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str  # the signer's raw 32-byte public key, base64
    value: str  # the 64-byte signature of ``signed_message()``, base64


class DigestDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["lifecycle.audit.digest.v1"] = "lifecycle.audit.digest.v1"
    position: int = Field(ge=0)
    hash: str = Field(pattern="^[0-9a-f]{64}$")
    events_checked: int = Field(ge=0)
    issued_at: str  # ISO 8601, UTC; kept as text so the signed bytes survive any round trip
    signature: DigestSignature | None = None

    @classmethod
    def issue(cls, position: int, hash: str, events_checked: int, now: datetime) -> DigestDocument:
        stamp = now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return cls(position=position, hash=hash, events_checked=events_checked, issued_at=stamp)

    def signed_message(self) -> bytes:
        """The bytes signed: four lines (format, position, hash, issued_at), no final newline."""
        return f"{self.format}\n{self.position}\n{self.hash}\n{self.issued_at}".encode()

    def signed_with(self, key: Ed25519PrivateKey) -> DigestDocument:
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        signature = DigestSignature(
            public_key=base64.b64encode(raw).decode("ascii"),
            value=base64.b64encode(key.sign(self.signed_message())).decode("ascii"),
        )
        return self.model_copy(update={"signature": signature})

    def check_signature(self, trusted: Ed25519PublicKey | None) -> str:
        """Raises ``DigestError`` unless the signature holds. With ``trusted`` the signature
        must be by that key; without, it is checked against the key the document names, which
        proves integrity but not who signed. Returns a sentence saying which."""
        signature = self.signature
        if signature is None:
            if trusted is not None:
                raise DigestError("the digest is not signed, but a public key was given")
            return "the digest is not signed"
        try:
            embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(signature.public_key))
            value = base64.b64decode(signature.value, validate=True)
        except ValueError as error:
            raise DigestError(f"the digest's signature is malformed: {error}") from error
        key = trusted or embedded
        if trusted is not None and _raw(trusted) != _raw(embedded):
            raise DigestError("the digest was signed by another key than the one given")
        try:
            key.verify(value, self.signed_message())
        except InvalidSignature as error:
            raise DigestError("the digest's signature does not match its content") from error
        if trusted is None:
            return "signature valid for the key named in the digest (pass --public-key to pin it)"
        return "signature valid for the given public key"


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_digest(path: Path) -> DigestDocument:
    try:
        return DigestDocument.model_validate_json(path.read_bytes())
    except OSError as error:
        raise DigestError(f"cannot read the digest {path}: {error.strerror}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise DigestError(f"{path} is not a lifecycle digest ({where}: {first['msg']})") from error


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An unencrypted PEM (PKCS#8) Ed25519 private key, as ``openssl genpkey`` writes it."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise DigestError(f"cannot read the signing key {path}: {error.strerror}") from error
    except (ValueError, TypeError) as error:
        raise DigestError(f"{path} is not an unencrypted PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise DigestError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM (SubjectPublicKeyInfo) Ed25519 public key, as ``openssl pkey -pubout`` writes it."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise DigestError(f"cannot read the public key {path}: {error.strerror}") from error
    except (ValueError, TypeError) as error:
        raise DigestError(f"{path} is not a PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise DigestError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key
