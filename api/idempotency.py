"""`Idempotency-Key`: a client's retry of a command is answered, never applied twice.

An HTTP client that times out cannot tell whether its command was applied. Sending it again
with the same `Idempotency-Key` reuses the same Temporal update id, so the workflow answers the
retry with the first answer (Temporal deduplicates update ids within a run, and the workflow
carries recent receipts across continue-as-new). The update id is derived from the caller, the
product and the key, so two people's keys never collide.
"""

import hashlib
from typing import Annotated

from fastapi import Header

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable ASCII without spaces, unique per command you send; "
        "send the same key again to retry the command safely.",
    ),
]


def update_id_for(subject: str, product_id: str, key: str | None) -> str | None:
    """None (a fresh update id per request) when the client sent no key."""
    if key is None:
        return None
    digest = hashlib.sha256(f"{subject}\n{product_id}\n{key}".encode()).hexdigest()
    return f"idem-{digest[:40]}"
