"""Every released shape of the product workflow must still replay against today's code.

A running product's history was written by the code of its day; a worker that cannot replay it
fails the product's workflow tasks until someone ships a fix. `tests/histories/` holds one
recorded history per journey and released shape (see `tests/histories/record.py`, and README's
"Changing workflow code safely" for how to change the workflow without breaking them).
"""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.histories.record import JOURNEYS
from tests.support.changed_workflow_patched import PausesBeforeNewNoticesOnly
from tests.support.changed_workflow_unchanged import Unchanged
from tests.support.changed_workflow_unsafe import PausesBeforeEveryNotice
from workflows.product_lifecycle import ProductLifecycleWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"recorded-{path.stem}", path.read_text())


def test_the_first_shape_has_its_three_journeys_recorded() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "v1-every-stage-to-retired",
        "v1-review-reminded-escalated-timed-out",
        "v1-held-resumed-conditional-go-killed",
    }


def test_the_latest_shape_has_every_journey_the_recorder_knows() -> None:
    shapes = sorted({p.stem.split("-", 1)[0] for p in HISTORIES}, key=lambda s: int(s[1:]))
    latest = shapes[-1]

    assert {p.stem for p in HISTORIES if p.stem.startswith(f"{latest}-")} == {
        f"{latest}-{journey}" for journey in JOURNEYS
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_recorded_history_replays_against_the_current_workflow(path: Path) -> None:
    replayer = Replayer(
        workflows=[ProductLifecycleWorkflow], data_converter=pydantic_data_converter
    )

    result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def variant_replayer(workflow_class: type) -> Replayer:
    """A variant's module must import the workflow and its contracts through the sandbox's
    pass-through, or the sandbox gives it copies of the models that the base class rejects."""
    return Replayer(workflows=[workflow_class], data_converter=pydantic_data_converter)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_an_unchanged_subclass_replays_every_recorded_history(path: Path) -> None:
    result = await variant_replayer(Unchanged).replay_workflow(
        history(path), raise_on_replay_failure=False
    )

    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_an_unguarded_change_to_the_workflow_fails_replay() -> None:
    """Proves the replay tests above can fail: the guard is real."""
    replayer = variant_replayer(PausesBeforeEveryNotice)
    recorded = history(next(p for p in HISTORIES if p.stem == "v1-every-stage-to-retired"))

    result = await replayer.replay_workflow(recorded, raise_on_replay_failure=False)

    assert isinstance(result.replay_failure, workflow.NondeterminismError)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_the_same_change_behind_a_patch_replays_every_recorded_history(path: Path) -> None:
    replayer = variant_replayer(PausesBeforeNewNoticesOnly)

    result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
