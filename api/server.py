"""Composition of the API process: its collaborators from settings, and uvicorn in-process."""

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import jwt
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api.app import create_app
from api.dead_letter_desk import DeadLetterDesk
from api.oidc import OidcVerifier
from api.services import ApiServices
from api.web import serve_pages_at
from playbooks import load_playbook_catalog
from runtime.settings import Settings
from store.dead_letters import DeadLetterStore
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from workflows.product_client import ProductLifecycleClient


@dataclass
class ApiProcess:
    app: FastAPI
    services: ApiServices


def oidc_from(settings: Settings) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    if not (settings.oidc_audience and settings.oidc_jwks_url):
        raise ValueError(
            "LIFECYCLE_OIDC_ISSUER is set, so LIFECYCLE_OIDC_AUDIENCE and "
            "LIFECYCLE_OIDC_JWKS_URL must be set too"
        )
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        keys=jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True),
        roles_claim=settings.oidc_roles_claim,
        name_claim=settings.oidc_name_claim,
    )


def build_api(
    settings: Settings,
    client: Client,
    pool: asyncpg.Pool,
    *,
    publish_search_attributes: bool = False,
    tracer_provider: TracerProvider | None = None,
) -> ApiProcess:
    """`publish_search_attributes` only once the namespace is known to have them;
    `tracer_provider` (None: tracing off) traces the API's requests."""
    events = EventStore(pool)
    services = ApiServices(
        products=ProductLifecycleClient(
            client,
            settings.temporal_task_queue,
            publish_search_attributes=publish_search_attributes,
        ),
        events=events,
        identity=IdentityStore(pool),
        projection=ProductProjection(pool, events),
        playbooks=load_playbook_catalog(settings.playbook_dir),
        oidc=oidc_from(settings),
        delegations=DelegationStore(pool),
        audit_pool=pool,
        outbox=NotificationOutbox(pool),
        dead_letters=DeadLetterDesk(DeadLetterStore(pool), client, settings.temporal_task_queue),
    )
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    app = create_app(
        services,
        run_projector=True,
        session_secret=secret,
        temporal=client,
        tracer_provider=tracer_provider,
    )
    serve_pages_at(app, settings.public_origin)
    return ApiProcess(app=app, services=services)


class _ServerWithoutSignals(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    """Serves until `stop` is set; uvicorn's own signal handlers stay off (the caller owns
    signals, so one Ctrl-C stops the API, the worker and the servers together)."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = _ServerWithoutSignals(config)
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving
