"""Digest documents: signed with an Ed25519 key, checked against the key an auditor pins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from store.audit_digest import (
    DigestDocument,
    DigestError,
    load_digest,
    load_private_key,
    load_public_key,
)

HEAD = "ab" * 32
NOON = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)


def pem_files(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    public = tmp_path / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def test_a_signed_digest_survives_a_round_trip_through_a_file_and_checks_with_the_pinned_key(
    tmp_path: Path,
) -> None:
    private, public = pem_files(tmp_path, "issuer")
    document = DigestDocument.issue(42, HEAD, 42, NOON).signed_with(load_private_key(private))
    saved = tmp_path / "digest.json"
    saved.write_text(document.model_dump_json())

    loaded = load_digest(saved)

    assert loaded == document
    assert loaded.issued_at == "2025-03-31T12:00:00.000000Z"
    assert loaded.signed_message() == (
        b"lifecycle.audit.digest.v1\n42\n" + HEAD.encode() + b"\n2025-03-31T12:00:00.000000Z"
    )
    assert "given public key" in loaded.check_signature(load_public_key(public))
    assert "pass --public-key" in loaded.check_signature(None)


def test_an_edited_digest_or_one_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    private, _ = pem_files(tmp_path, "issuer")
    _, stranger = pem_files(tmp_path, "stranger")
    document = DigestDocument.issue(42, HEAD, 42, NOON).signed_with(load_private_key(private))
    moved = document.model_copy(update={"position": 41})

    with pytest.raises(DigestError, match="does not match its content"):
        moved.check_signature(None)
    with pytest.raises(DigestError, match="another key"):
        document.check_signature(load_public_key(stranger))
    with pytest.raises(DigestError, match="not signed"):
        DigestDocument.issue(42, HEAD, 42, NOON).check_signature(load_public_key(stranger))


def test_unusable_digest_and_key_files_are_named(tmp_path: Path) -> None:
    not_json = tmp_path / "digest.json"
    not_json.write_text('{"position": 3}')
    _, public = pem_files(tmp_path, "issuer")

    with pytest.raises(DigestError, match="is not a lifecycle digest"):
        load_digest(not_json)
    with pytest.raises(DigestError, match="cannot read the digest"):
        load_digest(tmp_path / "missing.json")
    with pytest.raises(DigestError, match="not an unencrypted PEM private key"):
        load_private_key(public)
