"""Starting notification deliveries through the Temporal client.

A start names a workflow id that is never reused, so starting the same delivery again (a
retried notify activity, two operators replaying at once) finds it started and does nothing.
"""

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows.notification_delivery import DeliveryRequest, NotificationDeliveryWorkflow


async def start_delivery(
    client: Client, request: DeliveryRequest, workflow_id: str, task_queue: str
) -> bool:
    """Answers False when a workflow with this id exists already (running or ended)."""
    try:
        await client.start_workflow(
            NotificationDeliveryWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
