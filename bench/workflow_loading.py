"""What it costs a worker to load a product workflow: replays of a recorded history.

Temporal's sandbox imports the workflow module afresh for every workflow it loads (a new
product, a cache miss, a replay after a restart), so this cost is paid per product, on the
worker's main thread. With no bytecode on disk (PYTHONDONTWRITEBYTECODE set and no
`make bytecode` run), every load compiles the module from source again.

Run: `python -m bench.workflow_loading` (`--help` for counts). To see what bytecode saves, run
it once after `make bytecode` and once after removing our `__pycache__` folders with
`PYTHONDONTWRITEBYTECODE=1` set. The last line is `workflow_loading replay_ms=<mean>`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.common import machine
from workflows.product_lifecycle import ProductLifecycleWorkflow

HISTORY = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "histories"
    / "v2-continued-as-new-carrying-recent-updates.json"
)


async def mean_replay_seconds(replays: int, *, pass_through: bool = False) -> float:
    """``pass_through``: the sandbox also takes our workflow modules from outside instead of
    importing them afresh, to show what that import costs (the product does not do this: a
    passed-through module runs unchecked by the sandbox)."""
    history = WorkflowHistory.from_json("loading", HISTORY.read_text())
    runner = (
        SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
        )
        if pass_through
        else SandboxedWorkflowRunner()
    )
    replayer = Replayer(
        workflows=[ProductLifecycleWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=runner,
    )
    await replayer.replay_workflow(history)  # untimed: the first import of everything
    started = time.perf_counter()
    for _ in range(replays):
        await replayer.replay_workflow(history)
    return (time.perf_counter() - started) / replays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replays", type=int, default=20, help="timed replays")
    parser.add_argument(
        "--pass-through",
        action="store_true",
        help="also time replays with our workflow modules passed through the sandbox",
    )
    args = parser.parse_args()
    if args.replays < 1:
        parser.error("--replays must be at least 1")
    print(machine())
    print(f"history: {HISTORY.name}")
    seconds = asyncio.run(mean_replay_seconds(args.replays))
    if args.pass_through:
        passed = asyncio.run(mean_replay_seconds(args.replays, pass_through=True))
        print(f"workflow modules passed through: {passed * 1000:.1f} ms per replay")
    print(f"workflow_loading replay_ms={seconds * 1000:.1f}")


if __name__ == "__main__":
    main()
