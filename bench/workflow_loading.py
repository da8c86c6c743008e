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

from bench.common import machine
from workflows.product_lifecycle import ProductLifecycleWorkflow

HISTORY = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "histories"
    / "v2-continued-as-new-carrying-recent-updates.json"
)


async def mean_replay_seconds(replays: int) -> float:
    history = WorkflowHistory.from_json("loading", HISTORY.read_text())
    replayer = Replayer(
        workflows=[ProductLifecycleWorkflow], data_converter=pydantic_data_converter
    )
    await replayer.replay_workflow(history)  # untimed: the first import of everything
    started = time.perf_counter()
    for _ in range(replays):
        await replayer.replay_workflow(history)
    return (time.perf_counter() - started) / replays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replays", type=int, default=20, help="timed replays")
    args = parser.parse_args()
    if args.replays < 1:
        parser.error("--replays must be at least 1")
    print(machine())
    print(f"history: {HISTORY.name}")
    seconds = asyncio.run(mean_replay_seconds(args.replays))
    print(f"workflow_loading replay_ms={seconds * 1000:.1f}")


if __name__ == "__main__":
    main()
