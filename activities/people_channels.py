"""People channels (email, Slack, Teams, ...) through Apprise, not hand-written clients.

Apprise answers success or failure per service but not why, so any failure is retried with the
endpoint's backoff and dead-lettered when the attempts run out. Errors name the endpoint and
how many of its services failed, never a URL: those carry tokens.
"""

import apprise
from temporalio.exceptions import ApplicationError

from domain.notifications import Notification
from runtime.notification_routes import PeopleEndpoint


def message_body(notification: Notification) -> str:
    lines = [notification.headline]
    if notification.body:
        lines += ["", notification.body]
    about = f"{notification.product_name} ({notification.product_id})"
    if notification.gate is not None:
        about += f", {notification.gate.value} gate"
    lines += ["", f"{about} · {notification.kind} · {notification.occurred_at.isoformat()}"]
    return "\n".join(lines)


async def send_to_people(
    name: str, endpoint: PeopleEndpoint, notification: Notification, seconds: float
) -> int:
    """Sends through every URL of the endpoint; answers how many services took it."""
    channels = apprise.Apprise()
    for url in endpoint.urls:
        channels.add(url.get_secret_value())
    result = await channels.async_notify(
        title=notification.headline, body=message_body(notification), timeout=seconds
    )
    if not result:
        failed = result.failed_count or len(endpoint.urls)
        raise ApplicationError(
            f"people channel {name}: {failed} of {len(endpoint.urls)} services did not take "
            "the message",
            type="EndpointUnavailable",
        )
    return result.success_count
