"""First-run set-up for the embedded default: an admin who can add everyone else."""

from datetime import datetime, timedelta

from store.identity import IdentityStore, IssuedToken

ADMIN_SUBJECT = "admin"


async def admin_token(identity: IdentityStore, now: datetime) -> IssuedToken:
    """Creates the admin user on first run and issues a fresh 30-day token each start (the
    secret of an earlier one cannot be shown again: only its hash is stored)."""
    if await identity.get_user(ADMIN_SUBJECT) is None:
        await identity.add_user(ADMIN_SUBJECT, "Administrator", ["admin", "product-manager"])
    return await identity.create_token(
        ADMIN_SUBJECT, label="lifecycle dev", expires_at=now + timedelta(days=30), now=now
    )
