"""Review deadlines seen through the CLI: reminders counted, the due date, escalation and the
timeout on `product show` and in the trail, over ten days of simulated time.
"""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cli.cast import People, detail, in_discovery_review, line_with, utc_minute
from tests.cli.conftest import Cli, LiveApi


@pytest.fixture
def people(live_api: LiveApi) -> People:
    return People(live_api)


async def reminders_sent(cli: Cli, product_id: str, count: int) -> dict[str, Any]:
    """The product once the workflow's timers have sent `count` reminders; they fire on the
    test server's clock and land a moment later in real time."""
    for _ in range(200):
        shown = await detail(cli, product_id)
        if shown["review"]["reminders"] >= count:
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {count} reminder(s) in time: {shown['review']}")


async def test_show_counts_reminders_and_marks_an_escalated_review_overdue(
    time_skipping_env: WorkflowEnvironment, live_api: LiveApi, people: People, product_id: str
) -> None:
    owner = await in_discovery_review(people, product_id)

    await time_skipping_env.sleep(timedelta(days=3, hours=1))
    reminded = await reminders_sent(owner, product_id, 1)
    once = (await owner("product", "show", product_id)).ok().stdout
    await time_skipping_env.sleep(timedelta(days=7))
    late = await reminders_sent(owner, product_id, 3)
    for _ in range(200):
        if late["review"]["timed_out"]:
            break
        await asyncio.sleep(0.05)
        late = await detail(owner, product_id)
    overdue = (await owner("product", "show", product_id)).ok().stdout
    trail = (await owner("audit", "log", product_id, "--all")).ok().stdout

    due = utc_minute(reminded["review"]["due_at"])
    assert f"due {due} · 1 reminder(s) sent · next reminder or deadline check" in once
    assert "OVERDUE" not in once
    assert late["review"]["escalated_to"] == "exec-sponsor"
    assert late["review"]["timed_out"] == "escalate"
    assert (
        f"due {due} OVERDUE · 3 reminder(s) sent · escalated to exec-sponsor · timed out: escalate"
        in overdue
    )
    assert "reminder 1, gate discovery, round 1: product-lead" in line_with(trail, "reminder 1,")
    escalated = line_with(trail, "ReviewEscalated")
    assert "lifecycle engine" in escalated
    assert "escalated to exec-sponsor, gate discovery, round 1; waiting for product-lead" in (
        escalated
    )
    assert f"gate discovery, round 1 passed its deadline {due}: escalate" in trail
