"""When a responsibility item applies: channel, grid kind, urgency and time-of-day conditions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from schemas.common import Channel, Urgency

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_DAY = 24 * 60


class GridKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合网格
    DEDICATED = "dedicated"  # 专属网格


class DedicatedType(StrEnum):
    """The unit a dedicated grid (专属网格) is drawn around."""

    HOSPITAL = "hospital"
    SCHOOL = "school"
    INDUSTRIAL_PARK = "industrial_park"
    RIVER_SECTION = "river_section"
    MARKET = "market"
    SCENIC_AREA = "scenic_area"


class TimeWindow(BaseModel):
    """A time-of-day window `HH:MM-HH:MM`, start included, end excluded; may wrap past midnight."""

    model_config = ConfigDict(frozen=True)

    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, text: str) -> TimeWindow:
        match = _WINDOW.match(text.strip())
        if match is None:
            raise ValueError(f"bad time window {text!r}: expected HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ValueError(f"empty time window {text!r}")
        return cls(start_minute=start, end_minute=end)

    def intervals(self) -> tuple[tuple[int, int], ...]:
        """Minute intervals [a, b) of the day, split at midnight."""
        if self.start_minute < self.end_minute:
            return ((self.start_minute, self.end_minute),)
        return ((self.start_minute, _DAY), (0, self.end_minute))

    def contains(self, moment: time) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(a <= minute < b for a, b in self.intervals())

    def overlaps(self, other: TimeWindow) -> bool:
        return any(a < d and c < b for a, b in self.intervals() for c, d in other.intervals())


class ClassifyContext(BaseModel):
    """What is known about an incident besides its text when it is classified."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    grid_kind: GridKind | None = None
    dedicated_type: DedicatedType | None = None
    urgency: Urgency = Urgency.NORMAL
    local_time: time | None = None


_DEDICATED = frozenset({GridKind.DEDICATED})
_EVERY_KIND = frozenset(GridKind)


class Conditions(BaseModel):
    """All given conditions must hold for an item to apply; an absent condition always holds.

    A condition that needs a fact the context lacks (no grid kind, no time) does not hold:
    the specific item then gives way to the general one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    grid_kinds: frozenset[GridKind] | None = None
    dedicated_types: frozenset[DedicatedType] | None = None
    channels: frozenset[Channel] | None = None
    urgency: frozenset[Urgency] | None = None
    hours: TimeWindow | None = None

    @field_validator("hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: object) -> object:
        return TimeWindow.parse(value) if isinstance(value, str) else value

    @field_validator("grid_kinds", "dedicated_types", "channels", "urgency")
    @classmethod
    def _not_empty(cls, value: frozenset[object] | None) -> frozenset[object] | None:
        if value is not None and not value:
            raise ValueError("an empty condition can never hold; omit it instead")
        return value

    def effective_grid_kinds(self) -> frozenset[GridKind] | None:
        """Dedicated types imply a dedicated grid."""
        if self.dedicated_types is not None:
            return _DEDICATED & (self.grid_kinds or _EVERY_KIND)
        return self.grid_kinds

    def passed(self, context: ClassifyContext) -> tuple[str, ...] | None:
        """The names of the given conditions, all passed; None when any fails."""
        checks: list[tuple[str, bool]] = []
        kinds = self.effective_grid_kinds()
        if kinds is not None:
            checks.append(("grid_kinds", context.grid_kind in kinds))
        if self.dedicated_types is not None:
            checks.append(("dedicated_types", context.dedicated_type in self.dedicated_types))
        if self.channels is not None:
            checks.append(("channels", context.channel in self.channels))
        if self.urgency is not None:
            checks.append(("urgency", context.urgency in self.urgency))
        if self.hours is not None:
            at = context.local_time
            checks.append(("hours", at is not None and self.hours.contains(at)))
        if not all(ok for _, ok in checks):
            return None
        return tuple(name for name, _ in checks)

    def overlaps(self, other: Conditions) -> bool:
        """Whether some incident could satisfy both sets of conditions."""
        pairs = (
            (self.effective_grid_kinds(), other.effective_grid_kinds()),
            (self.dedicated_types, other.dedicated_types),
            (self.channels, other.channels),
            (self.urgency, other.urgency),
        )
        for mine, theirs in pairs:
            if mine is not None and theirs is not None and not (mine & theirs):
                return False
        if self.hours is not None and other.hours is not None:
            return self.hours.overlaps(other.hours)
        return True


class PassedMemo:
    """`Conditions.passed` of a list's items, remembered per item and context. Without an hours condition
    the answer depends only on the context's channel, grid kind, dedicated type and urgency (a few hundred
    combinations), so each item is judged once per combination; an item with hours is judged every time
    (the context's time of day is nearly unique). Built once per list version, like the classifiers."""

    def __init__(self, conditions: Sequence[Conditions]) -> None:
        self._conditions = tuple(conditions)
        self._memo: dict[tuple[int, str, str | None, str | None, str], tuple[str, ...] | None] = {}

    def passed(self, index: int, context: ClassifyContext) -> tuple[str, ...] | None:
        conditions = self._conditions[index]
        if conditions.hours is not None:
            return conditions.passed(context)
        key = (index, context.channel, context.grid_kind, context.dedicated_type, context.urgency)
        try:
            return self._memo[key]
        except KeyError:
            result = self._memo[key] = conditions.passed(context)
            return result
