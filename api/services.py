"""What the API needs from the rest of the system, handed in by the composition root."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from api.dead_letter_desk import DeadLetterDesk
from api.oidc import OidcVerifier
from domain.playbook import Playbook
from store.delegations import DelegationStore
from store.event_store import EventStore
from store.identity import IdentityStore
from store.notification_outbox import NotificationOutbox
from store.projections import ProductProjection
from workflows.product_client import ProductLifecycleClient


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiServices:
    products: ProductLifecycleClient
    events: EventStore
    identity: IdentityStore
    projection: ProductProjection
    playbooks: dict[str, Playbook]
    oidc: OidcVerifier | None = None
    clock: Callable[[], datetime] = field(default=utc_now)
    outbox: NotificationOutbox | None = None
    delegations: DelegationStore | None = None
    audit_pool: asyncpg.Pool | None = None  # read access to the log, for verification
    dead_letters: DeadLetterDesk | None = None  # notification deliveries to replay
