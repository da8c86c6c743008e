"""The runs of one product workflow, following its continue-as-new chain."""

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


async def run_lengths(client: Client, workflow_id: str, first_run_id: str) -> list[int]:
    """History length of every run, from the first to the one still open (or closed last)."""
    lengths: list[int] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            break
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return lengths
