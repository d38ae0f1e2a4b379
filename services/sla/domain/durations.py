"""Limits as the responsibility list writes them (`30m`, `2h`, `3d`, `5wd`) and how each one counts.

The router has its own parser; services never import each other, and the strings in
`schemas.case.Deadlines` are the contract, so sla reads them again here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from schemas.common import Urgency

_DURATION = re.compile(r"^(\d+)(m|h|d|wd)$")


class Unit(StrEnum):
    MINUTES = "m"
    HOURS = "h"
    DAYS = "d"  # 自然日 natural days: always 24 hours each
    WORKING_DAYS = "wd"  # 工作日 working days: the same working-clock time N working days later


class Clock(StrEnum):
    WORKING = "working"  # minutes and hours count only working hours
    NATURAL = "natural"  # everything counts around the clock


@dataclass(frozen=True, slots=True)
class Duration:
    """A limit. `working` says whether minutes/hours count working time only (clock=working)."""

    amount: int
    unit: Unit
    working: bool = False

    @property
    def minutes(self) -> int:
        """Length in minutes for m/h/d (for wd it is the count of days, see Calendar.add)."""
        return self.amount * {Unit.MINUTES: 1, Unit.HOURS: 60, Unit.DAYS: 1440, Unit.WORKING_DAYS: 1}[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}" + (" (working)" if self.working and self.unit != "wd" else "")


def parse_duration(text: str, clock: Clock | str = Clock.NATURAL) -> Duration:
    """`parse_duration("2h", "working")` → two working hours. Raises ValueError with the bad text."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: expected a positive number followed by m, h, d or wd")
    unit = Unit(match.group(2))
    working = unit is Unit.WORKING_DAYS or (Clock(clock) is Clock.WORKING and unit in (Unit.MINUTES, Unit.HOURS))
    return Duration(int(match.group(1)), unit, working)


def for_urgency(duration: Duration, urgency: Urgency) -> Duration:
    """The urgency rule (README): urgent and critical cases run on the natural clock — 急事不等工作日,
    an urgent matter does not wait for Monday — and critical limits are halved (at least 15 minutes).

    Working days become natural days and working hours natural hours; normal cases keep the list's limit.
    """
    if urgency is Urgency.NORMAL:
        return duration
    unit = Unit.DAYS if duration.unit is Unit.WORKING_DAYS else duration.unit
    natural = Duration(duration.amount, unit, working=False)
    if urgency is Urgency.URGENT:
        return natural
    halved = max(15, natural.minutes // 2)
    return Duration(halved, Unit.MINUTES, working=False)
