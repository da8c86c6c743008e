"""An auditor runs `lifecycle audit` straight against Postgres, without our server.

Each test gets a brand-new database of the embedded server (`database_dsn`), writes events with
the store, tampers as the owner would have to (triggers off), and runs the CLI with
`--database-url`. No live API runs here: the CLI's URL points at a closed port, so any request to
the API would fail the test.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import store.audit
import store.chain_shares
from store.chain_scan import CleanRun
from store.event_store import EventStore
from tests.cli.conftest import Cli, Run
from tests.store.factories import new_events
from tests.store.tampering import forged_row, hash_at, shift_positions, tamper
from tests.store.test_audit_export import offline_problems
from tests.store.test_verification_shares import silent_process

LOG_SIZE = 12
_PARK = 1_000_000


@pytest_asyncio.fixture(loop_scope="session")
async def owner(database_dsn: str, event_store: EventStore) -> AsyncIterator[asyncpg.Connection]:
    """The database owner's connection, after 12 events over two products were appended."""
    await event_store.append("product-atlas", 0, new_events(5))
    await event_store.append("product-beacon", 0, new_events(4, start=5))
    await event_store.append("product-atlas", 5, new_events(3, start=9))
    conn = await asyncpg.connect(database_dsn)
    try:
        yield conn
    finally:
        await conn.close()


class Auditor:
    """`lifecycle` with no API to talk to and the database in the environment."""

    def __init__(self, database_dsn: str) -> None:
        self._cli = Cli("http://127.0.0.1:9", None)
        self._env: dict[str, str | None] = {"LIFECYCLE_AUDIT_DATABASE_URL": database_dsn}

    async def __call__(self, *args: str) -> Run:
        return await self._cli(*args, env=self._env)


@pytest.fixture
def auditor(database_dsn: str) -> Auditor:
    return Auditor(database_dsn)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "audit.pem", tmp_path / "audit.pub.pem"
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


async def saved_digest(auditor: Auditor, tmp_path: Path, private: Path) -> Path:
    issued = (await auditor("audit", "digest", "--signing-key", str(private))).ok()
    path = tmp_path / "digest.json"
    path.write_text(issued.stdout)
    return path


def refused_at(run: Run, position: int, problem: str) -> None:
    assert run.exit_code == 1, run.stdout + run.stderr
    assert f"position {position} ({problem})" in run.reason


async def test_an_untouched_log_verifies_straight_from_postgres(
    owner: asyncpg.Connection, auditor: Auditor
) -> None:
    head = await hash_at(owner, LOG_SIZE)

    text = (await auditor("audit", "verify")).ok()
    body = (await auditor("-o", "json", "audit", "verify")).ok().json()

    assert text.stdout.strip() == f"OK: {LOG_SIZE} events verify; head {LOG_SIZE}:{head}"
    assert (body["ok"], body["events_checked"], body["head_hash"]) == (True, LOG_SIZE, head)


@pytest.mark.parametrize(
    ("statements", "position", "problem"),
    [
        (["UPDATE events SET data = '{\"n\":999}' WHERE position = 7"], 7, "content edited"),
        (
            ['UPDATE events SET metadata = \'{"actor":"mallory"}\' WHERE position = 4'],
            4,
            "content edited",
        ),
        (["DELETE FROM events WHERE position = 6"], 6, "row deleted (gap)"),
        (
            [
                f"UPDATE events SET position = {_PARK} WHERE position = 8",
                "UPDATE events SET position = 8 WHERE position = 9",
                f"UPDATE events SET position = 9 WHERE position = {_PARK}",
            ],
            8,
            "rows reordered",
        ),
    ],
    ids=["edit data", "edit metadata", "delete", "reorder"],
)
async def test_each_kind_of_tampering_is_named_at_its_position(
    owner: asyncpg.Connection,
    auditor: Auditor,
    statements: list[str],
    position: int,
    problem: str,
) -> None:
    await tamper(owner, *statements)

    run = await auditor("audit", "verify")

    refused_at(run, position, problem)


async def test_an_inserted_row_is_named_even_with_correctly_computed_hashes(
    owner: asyncpg.Connection, auditor: Auditor
) -> None:
    insert = await forged_row(owner, 5, await hash_at(owner, 4))
    await tamper(owner, *shift_positions(5, 1), insert)

    run = await auditor("-o", "json", "audit", "verify")

    refused_at(run, 5, "row inserted")
    assert run.json()["head_position"] == 4


async def test_a_saved_digest_catches_a_truncated_tail_and_a_rewritten_history(
    owner: asyncpg.Connection, auditor: Auditor, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    digest = await saved_digest(auditor, tmp_path, private)
    kept = json.loads(digest.read_text())

    intact = await auditor("audit", "verify", "--against", str(digest), "--public-key", str(public))
    await tamper(owner, f"DELETE FROM events WHERE position > {LOG_SIZE - 3}")
    plain = await auditor("audit", "verify")
    truncated = await auditor(
        "audit", "verify", "--against", str(digest), "--public-key", str(public)
    )

    assert kept["position"] == LOG_SIZE
    assert kept["signature"]["algorithm"] == "Ed25519"
    assert "the log extends the digest at position 12" in intact.ok().stdout
    assert "signature valid for the given public key" in intact.stdout
    plain.ok()  # a cut tail leaves a chain that is consistent on its own: only the digest knows
    refused_at(truncated, LOG_SIZE, "digest mismatch")
    assert "removed from its end" in truncated.reason


async def test_a_forged_or_foreign_digest_is_not_trusted(
    owner: asyncpg.Connection, auditor: Auditor, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    digest = await saved_digest(auditor, tmp_path, private)
    forged = json.loads(digest.read_text())
    forged["hash"] = await hash_at(owner, LOG_SIZE - 1)
    forged["position"] = LOG_SIZE - 1
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not a digest")

    moved = await auditor("audit", "verify", "--against", str(forged_path))
    malformed = await auditor("audit", "verify", "--against", str(garbage))
    no_digest = await auditor("audit", "verify", "--public-key", str(public))

    assert moved.exit_code == 1
    assert "the digest cannot be trusted" in moved.reason
    assert malformed.exit_code == 2
    assert no_digest.exit_code == 2


async def test_no_digest_is_issued_for_a_broken_log_and_bad_settings_are_named(
    owner: asyncpg.Connection, auditor: Auditor, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    _, public = keys
    await tamper(owner, "UPDATE events SET type = 'Forged' WHERE position = 3")

    refused = await auditor("audit", "digest")
    wrong_key = await auditor("audit", "digest", "--signing-key", str(public))
    nowhere = await auditor(
        "audit", "verify", "--database-url", "postgresql://nobody@127.0.0.1:9/none"
    )

    refused_at(refused, 3, "content edited")
    assert "no digest is issued" in refused.reason
    assert wrong_key.exit_code == 2
    assert nowhere.exit_code == 3
    assert "cannot read the event log" in nowhere.reason


async def test_a_log_shared_out_to_worker_processes_verifies_and_names_tampering_alike(
    owner: asyncpg.Connection, auditor: Auditor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.chain_shares, "MIN_EVENTS_PER_SHARE", 1)  # share even 12 events
    asked: list[int] = []
    real = store.audit.scan_in_shares

    async def watched(*args: Any, **options: Any) -> CleanRun:
        asked.append(options["processes"])
        return await real(*args, **options)

    monkeypatch.setattr(store.audit, "scan_in_shares", watched)
    head = await hash_at(owner, LOG_SIZE)

    body = (await auditor("-o", "json", "audit", "verify", "--workers", "3")).ok().json()
    await tamper(owner, "UPDATE events SET data = '{\"n\":999}' WHERE position = 9")
    refused = await auditor("audit", "verify", "--workers", "3")
    no_workers = await auditor("audit", "verify", "--workers", "0")

    assert (body["ok"], body["events_checked"], body["head_hash"]) == (True, LOG_SIZE, head)
    refused_at(refused, 9, "content edited")
    assert asked == [3, 3]
    assert no_workers.exit_code == 2


async def test_a_verifying_process_that_dies_is_named_and_exits_unavailable(
    owner: asyncpg.Connection, auditor: Auditor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.chain_shares, "MIN_EVENTS_PER_SHARE", 1)
    monkeypatch.setattr(store.chain_shares, "_start", silent_process(os._exit, 9))

    run = await auditor("audit", "verify", "--workers", "2")

    assert run.exit_code == 3
    assert "ended without an answer (exit code 9)" in run.reason


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_an_export_written_by_the_cli_verifies_offline(
    owner: asyncpg.Connection, auditor: Auditor, fmt: str
) -> None:
    whole = (await auditor("audit", "export", "--format", fmt)).ok().stdout
    atlas = (await auditor("audit", "export", "--format", fmt, "--product", "atlas")).ok().stdout

    if fmt == "jsonl":
        records = [json.loads(line) for line in whole.splitlines()]
        product = [json.loads(line) for line in atlas.splitlines()]
    else:
        records = list(csv.DictReader(io.StringIO(whole, newline="")))
        product = list(csv.DictReader(io.StringIO(atlas, newline="")))
    assert len(records) == LOG_SIZE
    assert offline_problems(records, whole_log=True) == []
    assert [int(r["stream_version"]) for r in product] == list(range(1, 9))
    assert offline_problems(product, whole_log=False) == []
