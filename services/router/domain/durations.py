"""Deadline durations as the list writes them: `30m`, `2h`, `1d`, `3wd`."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

_DURATION = re.compile(r"^(\d+)(m|h|d|wd)$")


class DurationUnit(StrEnum):
    MINUTES = "m"  # natural minutes
    HOURS = "h"  # natural hours
    DAYS = "d"  # natural days (自然日)
    WORKING_DAYS = "wd"  # working days (工作日), counted on the holiday calendar


class Duration(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: int = Field(gt=0)
    unit: DurationUnit
    working: bool = Field(description="counted in working days rather than natural time")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_duration(text: str) -> Duration:
    """`"3wd"` -> Duration(amount=3, unit=WORKING_DAYS, working=True); raises ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: expected a positive number followed by m, h, d or wd")
    unit = DurationUnit(match.group(2))
    return Duration(amount=int(match.group(1)), unit=unit, working=unit is DurationUnit.WORKING_DAYS)
