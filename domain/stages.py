"""The stages a product moves through, in the order the seed describes them."""

from enum import StrEnum


class Stage(StrEnum):
    DISCOVERY = "discovery"
    PLANNING = "planning"
    DEVELOPMENT = "development"
    LAUNCH = "launch"
    GROWTH = "growth"
    MATURITY = "maturity"
    SUNSET = "sunset"
    RETIRED = "retired"
    KILLED = "killed"


# The path a product walks when every gate says Go. `killed` is reachable from any working
# stage and therefore is not part of the path.
LIFECYCLE_PATH: tuple[Stage, ...] = (
    Stage.DISCOVERY,
    Stage.PLANNING,
    Stage.DEVELOPMENT,
    Stage.LAUNCH,
    Stage.GROWTH,
    Stage.MATURITY,
    Stage.SUNSET,
    Stage.RETIRED,
)

TERMINAL_STAGES: frozenset[Stage] = frozenset({Stage.RETIRED, Stage.KILLED})


def next_stage(stage: Stage) -> Stage | None:
    """The stage a Go decision leads to, or None when the product has nowhere left to go."""
    if stage in TERMINAL_STAGES:
        return None
    return LIFECYCLE_PATH[LIFECYCLE_PATH.index(stage) + 1]
