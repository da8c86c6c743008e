"""Audit: prove the log was not altered. Verification recomputes every hash; a digest is the
head (position, hash) an auditor keeps elsewhere, and checking against it later proves the log
still extends it (no tail truncated, no history rewritten)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.auth import Caller, Services, require_role
from api.errors import ApiRefusal
from api.routes.products import REFUSALS
from store.audit import ChainVerification, verify_chain
from store.audit_export import ExportFormat, export_records, render
from store.trail import stream_of

router = APIRouter(tags=["audit"])
AUDIT_ROLES = ("auditor", "admin")


@router.get("/audit/verify", responses=REFUSALS)
async def verify(
    caller: Caller,
    services: Services,
    against_position: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    against_hash: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> ChainVerification:
    """Recompute the hash chain; optionally check it still extends an earlier digest."""
    require_role(caller, *AUDIT_ROLES)
    if (against_position is None) != (against_hash is None):
        raise ApiRefusal(
            422, "request.invalid", "give both against_position and against_hash, or neither"
        )
    if services.audit_pool is None:
        raise ApiRefusal(503, "audit.unavailable", "audit verification is not configured")
    digest = None
    if against_position is not None and against_hash is not None:
        digest = (against_position, against_hash)
    return await verify_chain(services.audit_pool, digest=digest)


@router.get("/audit/digest", responses=REFUSALS)
async def digest(caller: Caller, services: Services) -> dict[str, object]:
    """The head of the log, once the whole chain verifies: keep it outside the system and
    verify against it later. A log that does not verify gets no digest (409)."""
    require_role(caller, *AUDIT_ROLES)
    if services.audit_pool is None:
        raise ApiRefusal(503, "audit.unavailable", "audit verification is not configured")
    verification = await verify_chain(services.audit_pool)
    if not verification.ok:
        raise ApiRefusal(
            409,
            "audit.chain_broken",
            f"the log does not verify at position {verification.first_bad_position} "
            f"({verification.problem}); no digest is issued",
        )
    return {"position": verification.head_position, "hash": verification.head_hash}


_MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/audit/export",
    responses={
        **REFUSALS,
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
    },
    response_class=StreamingResponse,
)
async def export(
    caller: Caller,
    services: Services,
    format: ExportFormat = "jsonl",
    product: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)
    ] = None,
) -> StreamingResponse:
    """The log (or one product's events) with every field both hash levels cover and the
    chain data, as JSON Lines or CSV, for offline verification (docs/audit.md)."""
    require_role(caller, *AUDIT_ROLES)
    pool = services.audit_pool
    if pool is None:
        raise ApiRefusal(503, "audit.unavailable", "audit export is not configured")
    if product is not None and await services.events.stream_version(stream_of(product)) == 0:
        raise ApiRefusal(404, "product.not_registered", f"product '{product}' is not registered")

    async def body() -> AsyncIterator[str]:
        async with pool.acquire() as conn:
            async for chunk in render(export_records(conn, product), format):
                yield chunk

    name = f"lifecycle-{product or 'portfolio'}.{format}"
    return StreamingResponse(
        body(),
        media_type=_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
