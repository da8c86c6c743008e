"""Readiness probes shared by the API and the worker: can this process do its work now?

Each probe answers within a short timeout and says why not, because an orchestrator that
only sees "503" leaves the person on call guessing which dependency is away.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Literal

import asyncpg
from pydantic import BaseModel
from temporalio.client import Client

PROBE_TIMEOUT = 2.0
Probe = Callable[[], Awaitable[None]]


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    def reason(self) -> str:
        return "; ".join(f"{name}: {c.detail}" for name, c in self.checks.items() if not c.ok)


def postgres_probe(pool: asyncpg.Pool) -> Probe:
    async def probe() -> None:
        await pool.fetchval("SELECT 1", timeout=PROBE_TIMEOUT)

    return probe


def temporal_probe(client: Client) -> Probe:
    async def probe() -> None:
        healthy = await client.service_client.check_health(timeout=timedelta(seconds=PROBE_TIMEOUT))
        if not healthy:
            raise RuntimeError("the frontend reports NOT_SERVING")

    return probe


async def readiness(probes: Mapping[str, Probe]) -> Readiness:
    """Runs the probes together; a probe that raises or exceeds the timeout is not ok."""
    names = list(probes)
    results = await asyncio.gather(
        *(asyncio.wait_for(probes[name](), PROBE_TIMEOUT + 1) for name in names),
        return_exceptions=True,
    )
    checks: dict[str, Check] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            checks[name] = Check(ok=False, detail=_describe(result))
        else:
            checks[name] = Check(ok=True, detail="reachable")
    ready = bool(checks) and all(c.ok for c in checks.values())
    return Readiness(status="ready" if ready else "not_ready", checks=checks)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return f"no answer within {PROBE_TIMEOUT:g}s"
    text = " ".join(str(error).split()) or type(error).__name__
    return f"unreachable ({type(error).__name__}: {text[:200]})"
