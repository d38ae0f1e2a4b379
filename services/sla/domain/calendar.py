"""The working-day calendar (工作日历): deadline arithmetic on working hours, weekends, statutory
holidays and adjusted working weekend days (调休).

Pure: the data comes from `data/calendar/*.yaml` through `adapters/calendar_files.py`. All datetimes
in and out are timezone-aware; arithmetic happens in the calendar's zone (Asia/Shanghai).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.sla.domain.durations import Duration, Unit

_MAX_DAYS = 3660  # ten years of searching for working time means the calendar is broken


class CalendarError(ValueError):
    """Arithmetic that cannot be done on this calendar (naive datetime, no working time at all)."""


@dataclass(frozen=True, slots=True)
class Period:
    """One working span of a day, e.g. 08:30–12:00; the lunch break is the gap between two."""

    start: time
    end: time


@dataclass(frozen=True)
class Calendar:
    version: str
    zone: ZoneInfo
    periods: tuple[Period, ...]
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    holidays: frozenset[date] = frozenset()  # 法定节假日 and bridge days off (放假)
    working_weekend_days: frozenset[date] = frozenset()  # 调休: weekend days that are working days
    years: frozenset[int] = field(default_factory=frozenset)  # years with an official notice loaded
    provisional_years: frozenset[int] = field(default_factory=frozenset)  # statutory days only, no 调休 yet

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline `duration` after `start` (see Duration for how each unit counts)."""
        _aware(start)
        if duration.unit is Unit.WORKING_DAYS:
            return self.add_working_days(start, duration.amount)
        if duration.working:
            return self.add_working(start, timedelta(minutes=duration.minutes))
        return start + timedelta(minutes=duration.minutes)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Same working-clock time `days` working days later. A start outside working hours (night,
        lunch, a holiday) counts from the next working moment: Saturday 10:00 + 1wd = Tuesday 08:30."""
        begin = self.add_working(start, timedelta(0))
        day = begin.date()
        for _ in range(days):
            day = self._next_working_day(day)
        return datetime.combine(day, begin.timetz())

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """`amount` of working time after `start`; a deadline ends at a period's end (17:30), never at the
        next period's start. With amount 0: the next working moment at or after `start`."""
        local = _aware(start).astimezone(self.zone)
        left = amount
        day = local.date()
        for _ in range(_MAX_DAYS):
            for begin, end in self._spans(day):
                begin = max(begin, local)
                if begin >= end and not (left == timedelta(0) and begin == end):
                    continue
                if left <= end - begin:
                    return begin + left
                left -= end - begin
            day += timedelta(days=1)
        raise CalendarError(f"no working time within {_MAX_DAYS} days after {start.isoformat()}")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b` (zero when b is not after a)."""
        start, stop = _aware(a).astimezone(self.zone), _aware(b).astimezone(self.zone)
        total = timedelta(0)
        day = start.date()
        while day <= stop.date():
            for begin, end in self._spans(day):
                overlap = min(end, stop) - max(begin, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def elapsed(self, a: datetime, b: datetime, working: bool) -> timedelta:
        """Time from a to b on a stage's clock (never negative)."""
        if working:
            return self.working_time_between(a, b)
        return max(b - a, timedelta(0))

    def advance(self, start: datetime, amount: timedelta, working: bool) -> datetime:
        return self.add_working(start, amount) if working else start + amount

    def covers(self, day: date) -> bool:
        """False when the day's year has no official notice loaded (weekends only are known)."""
        return day.year in self.years and day.year not in self.provisional_years

    def covers_span(self, a: datetime, b: datetime) -> bool:
        """True when every year from a's to b's has official data (else a deadline there is provisional)."""
        first, last = a.astimezone(self.zone).year, b.astimezone(self.zone).year
        return all(self.covers(date(year, 1, 1)) for year in range(first, last + 1))

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, p.start, self.zone), datetime.combine(day, p.end, self.zone))
                for p in self.periods]

    def _next_working_day(self, day: date) -> date:
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise CalendarError(f"no working day within {_MAX_DAYS} days after {day}")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"naive datetime {moment.isoformat()}: deadlines need a timezone")
    return moment
