"""Comparing a measured value with a target: shared by gate criteria, KPI targets and goals."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.identity import Key

Comparison = Literal[">=", ">", "<=", "<"]


def holds(value: float, comparison: Comparison, threshold: float) -> bool:
    match comparison:
        case ">=":
            return value >= threshold
        case ">":
            return value > threshold
        case "<=":
            return value <= threshold
        case "<":
            return value < threshold


def number(value: float) -> str:
    """Exact, without exponent or rounding: 999999.5 must not read as 1e+06 next to 1e+06."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


class MetricThreshold(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Key
    comparison: Comparison
    threshold: float = Field(allow_inf_nan=False)

    def holds_for(self, value: float) -> bool:
        return holds(value, self.comparison, self.threshold)
