"""Where operators look at dead letters and send them again (the API's side of replay)."""

from datetime import datetime

from temporalio.client import Client

from store.dead_letters import DeadLetterStore, RecordedDeadLetter, Replay
from workflows.delivery_client import start_delivery
from workflows.notification_delivery import DeliveryRequest, DeliveryRetry, replay_workflow_id


class ReplayRefused(Exception):
    """`rule` names why: the dead letter is unknown, or was replayed already."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class DeadLetterDesk:
    """Where operators look at dead letters and send them again."""

    def __init__(self, store: DeadLetterStore, client: Client, task_queue: str) -> None:
        self.store = store
        self._client = client
        self._task_queue = task_queue

    async def replay(
        self, dead_letter_id: str, by: str, at: datetime
    ) -> tuple[RecordedDeadLetter, Replay]:
        """Start the dead letter's delivery again, once. Replaying one already replayed is
        refused, naming the replay; its new failures, if any, leave a new dead letter."""
        letter = await self.store.get(dead_letter_id)
        if letter is None:
            raise ReplayRefused(
                "dead_letter.not_found", f"there is no dead letter {dead_letter_id!r}"
            )
        if letter.replay is not None:
            raise ReplayRefused(
                "dead_letter.already_replayed",
                f"dead letter {dead_letter_id} was replayed by {letter.replay.replayed_by} at "
                f"{letter.replay.replayed_at.isoformat()} (workflow {letter.replay.workflow_id})",
            )
        request = DeliveryRequest(
            delivery_id=letter.delivery_id,
            endpoint=letter.endpoint,
            notification=letter.notification,
            retry=DeliveryRetry.model_validate(letter.retry),
            replay_of=letter.dead_letter_id,
        )
        workflow_id = replay_workflow_id(letter.delivery_id, letter.dead_letter_id)
        # Start first, then record: a failed start leaves the dead letter replayable, and a
        # repeated start after a lost answer finds the workflow already there.
        await start_delivery(self._client, request, workflow_id, self._task_queue)
        replay = await self.store.record_replay(dead_letter_id, workflow_id, by, at)
        return letter, replay
