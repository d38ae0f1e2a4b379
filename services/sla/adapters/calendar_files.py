"""Reads the calendar from `data/calendar/` and validates all of it at once: every problem is reported
with its file and line, so whoever edits the holiday list after the State Council's notice sees exactly
what to fix. The result is a pure `Calendar`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from services.sla.adapters.official_calendar import OfficialDays, from_package
from services.sla.domain.calendar import Calendar, Period

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class CalendarFileError(ValueError):
    """The calendar cannot be used; `problems` lists each one as `file:line: message`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the calendar:\n" + "\n".join(f"  {p}" for p in problems))


class _File:
    """One YAML file with its node tree, so that problems can name a line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.label, self.problems, self.node, self.value = path.name, problems, None, None
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            self.node = loader.get_single_node()
            self.value = loader.construct_document(self.node) if self.node is not None else None
        except yaml.MarkedYAMLError as error:
            line = error.problem_mark.line + 1 if error.problem_mark else 1
            self.problem((), f"YAML: {error.problem}", line)
        finally:
            loader.dispose()
        if self.node is not None and not isinstance(self.value, dict):
            self.problem((), "expected a mapping at the top")
            self.value = None

    def problem(self, path: Sequence[int | str], message: str, line: int | None = None) -> None:
        self.problems.append(f"{self.label}:{line or self.line(path)}: {message}")

    def line(self, path: Sequence[int | str]) -> int:
        node: Any = self.node
        line = node.start_mark.line + 1 if node is not None else 1
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
            if node is None:
                break
            line = node.start_mark.line + 1
        return line


def load_calendar(directory: Path, official: OfficialDays | None = None) -> Calendar:
    """The calendar: the official days from the `holidays` package (`official`, by default the installed
    one) for every year it has published, the operator's year file (`YYYY.yaml`) for a year it has not
    (an override, provisional if the file says so), and the package's statutory days alone for later
    years (provisional). Raises CalendarFileError listing every problem when the files are not valid."""
    official = official if official is not None else from_package()
    problems: list[str] = []
    main = _File(directory / "calendar.yaml", problems)
    base = _base(main)
    weekend = base["weekend"]
    days_off = {d for d in official.days_off if d.year in official.official_years}
    working = {d for d in official.working_weekend_days if d.year in official.official_years}
    years, provisional = set(official.official_years), set()
    for path in sorted(directory.glob("[0-9][0-9][0-9][0-9].yaml")):
        file_off: set[date] = set()
        file_working: set[date] = set()
        year = _year(_File(path, problems), int(path.stem), weekend, file_off, file_working)
        if year is None or year[0] in official.official_years:
            continue  # validated, but the published data wins
        days_off |= file_off
        working |= file_working
        years.add(year[0])
        if year[1]:
            provisional.add(year[0])
    for fallback in official.fallback_years - years:
        days_off |= {d for d in official.days_off if d.year == fallback}
        years.add(fallback)
        provisional.add(fallback)
    if problems:
        raise CalendarFileError(problems)
    return Calendar(version=f"{base['version']}+{official.version}", zone=base["zone"], periods=base["periods"],
                    weekend=weekend, holidays=frozenset(days_off), working_weekend_days=frozenset(working),
                    years=frozenset(years), provisional_years=frozenset(provisional))


def _base(f: _File) -> dict[str, Any]:
    v: dict[str, Any] = f.value or {}
    out: dict[str, Any] = {"version": str(v.get("version") or ""), "zone": ZoneInfo("UTC"), "periods": (),
                           "weekend": frozenset({5, 6})}
    _unknown(f, v, (), {"version", "timezone", "working_hours", "weekend"})
    if not out["version"]:
        f.problem(("version",), "version is required (it travels on every SLA event)")
    try:
        out["zone"] = ZoneInfo(str(v.get("timezone", "")))
    except (ZoneInfoNotFoundError, ValueError):
        f.problem(("timezone",), f"unknown timezone {v.get('timezone')!r} (expected e.g. Asia/Shanghai)")
    periods: list[Period] = []
    for i, span in enumerate(v.get("working_hours") or []):
        m = _SPAN.match(str(span))
        if not m or not (0 <= int(m[1]) < 24 and 0 <= int(m[3]) < 24 and int(m[2]) < 60 and int(m[4]) < 60):
            f.problem(("working_hours", i), f"bad span {span!r}: expected HH:MM-HH:MM")
            continue
        p = Period(time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4])))
        if p.end <= p.start or (periods and p.start < periods[-1].end):
            f.problem(("working_hours", i), f"span {span!r} must end after it starts and follow the previous one")
        periods.append(p)
    if not periods:
        f.problem(("working_hours",), "working_hours needs at least one span")
    out["periods"] = tuple(periods)
    names = v.get("weekend", ["saturday", "sunday"])
    bad = [n for n in names if str(n).lower() not in WEEKDAYS]
    if bad:
        f.problem(("weekend",), f"unknown weekday(s) {bad}: use {', '.join(WEEKDAYS)}")
    out["weekend"] = frozenset(WEEKDAYS.index(str(n).lower()) for n in names if str(n).lower() in WEEKDAYS)
    return out


def _year(f: _File, stem: int, weekend: frozenset[int], holidays: set[date],
          working: set[date]) -> tuple[int, bool] | None:
    v: dict[str, Any] = f.value or {}
    if f.value is None:
        return None
    _unknown(f, v, (), {"year", "source", "provisional", "holidays", "working_days"})
    if v.get("year") != stem:
        f.problem(("year",), f"year {v.get('year')!r} does not match the file name {f.label}")
        return None
    if not v.get("source"):
        f.problem(("source",), "source is required: cite the notice the dates come from")
    days_off: set[date] = set()
    for i, h in enumerate(v.get("holidays") or []):
        if not isinstance(h, dict) or not {"name", "from", "to"} <= h.keys():
            f.problem(("holidays", i), "a holiday needs name, from and to")
            continue
        start, end = h["from"], h["to"]
        if not isinstance(start, date) or not isinstance(end, date) or start > end or start.year != stem \
                or end.year != stem:
            f.problem(("holidays", i), f"{h['name']}: from/to must be dates in {stem}, from not after to")
            continue
        days_off.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    for i, w in enumerate(v.get("working_days") or []):
        day = w.get("date") if isinstance(w, dict) else None
        if not isinstance(day, date) or day.year != stem:
            f.problem(("working_days", i), f"a working day needs a date in {stem}")
        elif day.weekday() not in weekend:
            f.problem(("working_days", i), f"{day} is not a weekend day: 调休 only makes weekend days working days")
        elif day in days_off:
            f.problem(("working_days", i), f"{day} is also listed as a holiday")
        else:
            working.add(day)
    holidays.update(days_off)
    return stem, bool(v.get("provisional", False))


def _unknown(f: _File, value: dict[str, Any], path: tuple[str, ...], known: set[str]) -> None:
    for key in value.keys() - known:
        f.problem((*path, key), f"unknown key {key!r} (known: {', '.join(sorted(known))})")
