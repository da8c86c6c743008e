"""`lifecycle audit verify|digest|export|state`: proof the log was not altered, and the past.

Two ways to reach the log, so an auditor does not have to trust our server:

* through the API (default): `GET /audit/verify`, `/audit/digest`, `/audit/export`, with the
  auditor's token;
* straight from Postgres with `--database-url` (or `LIFECYCLE_AUDIT_DATABASE_URL`): the
  verification runs here, in a read-only transaction, with a progress bar on a terminal. Any
  role that may SELECT from `events` will do; the API need not be running. A large log is
  hashed in `--workers` processes (one per core by default), all reading one snapshot.

A digest is a small JSON document (see `store.audit_digest`), signed with the Ed25519 key named
by `--signing-key` / `LIFECYCLE_AUDIT_SIGNING_KEY` when one is configured; `verify --against`
checks its signature (against `--public-key` when given) and that the log still extends it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from cli import render
from cli.client import USER_AGENT, ApiError, ApiUnreachable
from cli.commands.common import product_path
from cli.commands.products import audit_app
from cli.commands.trail import instant
from cli.session import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    OutputOption,
    Session,
    print_json,
    session,
    usage_error,
)
from cli.views import product as product_view
from store.audit import ChainVerification, verify_chain
from store.audit_digest import (
    DigestDocument,
    DigestError,
    load_digest,
    load_private_key,
    load_public_key,
)
from store.audit_export import export_records
from store.audit_export import render as render_export
from store.chain_shares import VerifierStopped

T = TypeVar("T")

# Rows per read while verifying here: small enough for the progress bar to move smoothly.
_BATCH = 2_000
# The cores this process may run on, at most 8: each verifying process holds two connections.
_CORES = min(8, len(os.sched_getaffinity(0)))

WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        help="With --database-url: processes hashing a large log at once (100,000 events "
        "each at least), all reading one snapshot.",
    ),
]

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="LIFECYCLE_AUDIT_DATABASE_URL",
        show_default=False,
        help="Read the log straight from this Postgres (read-only), without the API.",
    ),
]


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def register(app: typer.Typer) -> None:
    """Adds the commands to `lifecycle audit` (the group `products` creates)."""
    del app
    audit_app.info.help = "The decision trail, proof the log was not altered, and the past."
    audit_app.command("verify")(verify)
    audit_app.command("digest")(digest)
    audit_app.command("export")(export)
    audit_app.command("state")(state)


def _read_log(
    s: Session, url: str, work: Callable[[asyncpg.Pool], Awaitable[T]], *, readers: int = 1
) -> T:
    """Runs ``work`` on a pool of up to ``readers`` read-only connections (verification reads
    on two at once); an unreachable database exits 3."""

    async def run() -> T:
        pool = await asyncpg.create_pool(
            url,
            min_size=readers,
            max_size=readers,
            server_settings={
                "default_transaction_read_only": "on",
                "application_name": "lifecycle-audit",
            },
        )
        try:
            return await work(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        ValueError,
        VerifierStopped,
    ) as error:
        body = {"error": {"status": None, "rule": "database.unreachable", "message": str(error)}}
        raise s.fail(f"cannot read the event log: {error}", body, EXIT_UNAVAILABLE) from None


def _verify_here(
    s: Session, url: str, against: tuple[int, str] | None, workers: int
) -> ChainVerification:
    bar = Progress(
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=s.err,
        transient=True,
        disable=not s.err.is_terminal,
    )
    task = bar.add_task("verifying the hash chain", total=None)

    def advance(checked: int, total: int) -> None:
        bar.update(task, completed=checked, total=total)

    with bar:
        return _read_log(
            s,
            url,
            lambda pool: verify_chain(
                pool,
                batch_size=_BATCH,
                digest=against,
                progress=advance,
                processes=workers,
                database_url=url,
            ),
            readers=2,
        )


def verify(
    ctx: typer.Context,
    against: Annotated[
        Path | None,
        typer.Option(help="A digest file (from `audit digest`) the log must still extend."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="PEM Ed25519 public key the digest must be signed with."),
    ] = None,
    database_url: DatabaseOption = None,
    workers: WorkersOption = _CORES,
    output: OutputOption = None,
) -> None:
    """Recompute every hash of the log: OK with the count and head, or the first bad position
    and why (exit 1)."""
    digest, signature_note = None, None
    if public_key is not None and against is None:
        raise usage_error(
            "--public-key checks a digest's signature; give --against", "--public-key"
        )
    if against is not None:
        try:
            digest = load_digest(against)
            trusted = load_public_key(public_key) if public_key is not None else None
        except DigestError as error:
            raise usage_error(str(error), "--against/--public-key") from None
    with session(ctx, output) as s:
        if digest is not None:
            try:
                signature_note = digest.check_signature(trusted)
            except DigestError as error:
                refusal = {"ok": False, "problem": "digest signature", "detail": str(error)}
                line = f"the digest cannot be trusted: {error}"
                raise s.fail(line, refusal, EXIT_REFUSED) from None
        head = (digest.position, digest.hash) if digest is not None else None
        if database_url is not None:
            verification = _verify_here(s, database_url, head, workers)
            body: dict[str, Any] = verification.model_dump(mode="json")
        else:
            params = {"against_position": head[0], "against_hash": head[1]} if head else {}
            body = s.client.get("/audit/verify", params)
        if signature_note is not None:
            body["digest_signature"] = signature_note
        if not body.get("ok"):
            detail = f": {body['detail']}" if body.get("detail") else ""
            line = (
                f"the log does not verify: position {body.get('first_bad_position')} "
                f"({body.get('problem')}){detail}"
            )
            raise s.fail(line, body, EXIT_REFUSED)

        def show(console: Console) -> None:
            line = (
                f"OK: {body['events_checked']} events verify; "
                f"head {body['head_position']}:{body['head_hash']}"
            )
            if digest is not None:
                line += f"; the log extends the digest at position {digest.position}"
                line += f" ({signature_note})"
            console.print(render.text(line, "green"), soft_wrap=True)

        s.emit(body, show)


def digest(
    ctx: typer.Context,
    signing_key: Annotated[
        Path | None,
        typer.Option(
            envvar="LIFECYCLE_AUDIT_SIGNING_KEY",
            show_default=False,
            help="PEM Ed25519 private key to sign the digest with.",
        ),
    ] = None,
    database_url: DatabaseOption = None,
    workers: WorkersOption = _CORES,
) -> None:
    """Print the digest of a log that verifies (position and head hash, signed if a key is
    configured) as a JSON document to keep outside the system."""
    try:
        key = load_private_key(signing_key) if signing_key is not None else None
    except DigestError as error:
        raise usage_error(str(error), "--signing-key") from None
    with session(ctx, None) as s:
        if database_url is not None:
            result = _verify_here(s, database_url, None, workers)
            if not result.ok:
                line = (
                    f"the log does not verify at position {result.first_bad_position} "
                    f"({result.problem}); no digest is issued"
                )
                raise s.fail(line, result.model_dump(mode="json"), EXIT_REFUSED)
            position, head, checked = result.head_position, result.head_hash, result.events_checked
        else:
            answer = s.client.get("/audit/digest")
            position, head, checked = answer["position"], answer["hash"], answer["position"]
        document = DigestDocument.issue(position, head, checked, datetime.now(UTC))
        if key is not None:
            document = document.signed_with(key)
        print_json(document.model_dump(mode="json"))


def export(
    ctx: typer.Context,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", case_sensitive=False, help="jsonl or csv.")
    ] = ExportFormat.JSONL,
    product_id: Annotated[
        str | None, typer.Option("--product", help="Only this product's events.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write the trail with its chain data to stdout (see docs/audit.md to verify it offline)."""
    fmt: Literal["jsonl", "csv"] = "csv" if export_format is ExportFormat.CSV else "jsonl"
    with session(ctx, None) as s:
        if database_url is not None:

            async def write(pool: asyncpg.Pool) -> None:
                async with pool.acquire() as conn:
                    async for chunk in render_export(export_records(conn, product_id), fmt):
                        typer.echo(chunk, nl=False)

            _read_log(s, database_url, write)
            return
        _stream_export(s, {"format": fmt, "product": product_id})


def _stream_export(s: Session, params: dict[str, Any]) -> None:
    headers = {"User-Agent": USER_AGENT}
    if s.config.token:
        headers["Authorization"] = f"Bearer {s.config.token}"
    url = s.config.url.rstrip("/") + "/audit/export"
    query = {k: v for k, v in params.items() if v is not None}
    try:
        with httpx.stream(
            "GET", url, params=query, headers=headers, timeout=s.config.timeout
        ) as response:
            if not response.is_success:
                response.read()
                raise _refusal(response)
            for chunk in response.iter_text():
                typer.echo(chunk, nl=False)
    except httpx.TimeoutException:
        raise ApiUnreachable(s.config.url, f"no answer within {s.config.timeout:g}s") from None
    except httpx.TransportError as error:
        raise ApiUnreachable(s.config.url, str(error) or type(error).__name__) from None


def _refusal(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        detail = body["error"]
        return ApiError(response.status_code, detail["rule"], detail["message"], body=body)
    except (ValueError, KeyError, TypeError):
        status = response.status_code
        return ApiError(status, f"http.{status}", response.reason_phrase or "error")


def state(
    ctx: typer.Context,
    product_id: Annotated[
        str | None, typer.Argument(help="This product (default: the portfolio board).")
    ] = None,
    as_of: Annotated[
        str, typer.Option("--as-of", help="The instant (ISO 8601; UTC if no offset).")
    ] = "",
    output: OutputOption = None,
) -> None:
    """A product, or the portfolio board, as it stood at a past instant (folded from the log)."""
    moment = instant(as_of, "--as-of")
    if not moment:
        raise usage_error("give the instant to look at", "--as-of")
    with session(ctx, output) as s:
        if product_id is None:
            body = s.client.get("/products", {"as_of": moment, "limit": 500})
            s.emit(body, lambda c: product_view.product_list(c, body.get("products", [])))
            return
        body = s.client.get(product_path(product_id), {"as_of": moment})
        now = datetime.fromisoformat(moment)
        s.emit(body, lambda c: product_view.product_detail(c, body, now=now))
