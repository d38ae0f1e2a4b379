"""The calendar is versioned data; a bad edit is reported with its file and line, all problems at once."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.sla.adapters.calendar_files import CalendarFileError, load_calendar
from services.sla.adapters.official_calendar import OfficialDays, from_package
from services.sla.settings import HERE

SHIPPED = HERE / "data" / "calendar"


def test_shipped_calendar_has_2025_to_2027() -> None:
    calendar = load_calendar(SHIPPED)
    assert calendar.version.endswith("+holidays-0.108")  # the package version travels on every event
    assert {2025, 2026, 2027} <= calendar.years
    assert 2027 in calendar.provisional_years and not {2025, 2026} & calendar.provisional_years


# Where the days come from: the `holidays` package first, the operator's year files for a year it lacks


def _days(year: int, off: set[date], working: set[date]) -> OfficialDays:
    return OfficialDays(version="holidays-test", official_years=frozenset({year}),
                        fallback_years=frozenset({year + 1}), days_off=frozenset(off),
                        working_weekend_days=frozenset(working))


def test_the_package_agrees_with_the_operator_files_for_2025_and_2026() -> None:
    from_files = load_calendar(SHIPPED, _days(2000, set(), set()))  # a package that knows nothing recent
    from_pkg = load_calendar(SHIPPED)
    for year in (2025, 2026):
        day = date(year, 1, 1)
        while day.year == year:
            assert from_pkg.is_working_day(day) == from_files.is_working_day(day), day
            day += timedelta(days=1)


def test_a_year_the_package_has_published_wins_over_the_operator_file() -> None:
    official = _days(2026, {date(2026, 3, 10)}, {date(2026, 3, 14)})
    calendar = load_calendar(SHIPPED, official)
    assert not calendar.is_working_day(date(2026, 3, 10))  # the package's day off
    assert calendar.is_working_day(date(2026, 3, 14))  # the package's 调休 Saturday
    assert calendar.is_working_day(date(2026, 10, 5))  # the file's National Day is not used for 2026
    assert calendar.covers(date(2026, 6, 1))


def test_an_operator_file_stands_in_for_a_year_the_package_lacks() -> None:
    calendar = load_calendar(SHIPPED, _days(2025, set(), set()))
    assert not calendar.is_working_day(date(2026, 10, 5))  # from 2026.yaml
    assert calendar.is_working_day(date(2026, 9, 20))  # 2026.yaml's 调休 Sunday
    assert calendar.covers(date(2026, 6, 1))


def test_a_fallback_year_has_the_statutory_days_and_is_provisional() -> None:
    official = OfficialDays(version="holidays-test", official_years=frozenset({2026}),
                            fallback_years=frozenset({2027, 2028}), days_off=frozenset({date(2028, 5, 1)}),
                            working_weekend_days=frozenset())
    calendar = load_calendar(SHIPPED, official)
    assert not calendar.is_working_day(date(2028, 5, 1)) and not calendar.covers(date(2028, 5, 1))
    assert not calendar.covers(date(2027, 5, 1))  # the shipped 2027.yaml says provisional


def test_the_installed_package_has_published_2025_and_2026_with_their_make_up_days() -> None:
    days = from_package()
    assert {2025, 2026} <= days.official_years and days.fallback_years
    assert date(2026, 2, 14) in days.working_weekend_days and date(2026, 2, 16) in days.days_off


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "calendar"
    shutil.copytree(SHIPPED, target)
    return target


def test_a_working_day_that_is_not_a_weekend_points_at_its_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    text = (d / "2026.yaml").read_text().replace("{date: 2026-02-28, for: 春节}", "{date: 2026-02-27, for: 春节}")
    (d / "2026.yaml").write_text(text)
    line = text.splitlines().index("  - {date: 2026-02-27, for: 春节}") + 1
    with pytest.raises(CalendarFileError) as error:
        load_calendar(d)
    assert error.value.problems == (f"2026.yaml:{line}: 2026-02-27 is not a weekend day: 调休 only makes weekend "
                                    "days working days",)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "calendar.yaml").write_text('version: "x"\ntimezone: Mars/Olympus\nworking_hours: ["08:30-12:00", '
                                     '"11:00-17:30"]\nweekend: [saturday, sunday]\n')
    (d / "2025.yaml").write_text("year: 2024\nsource: s\nholidays: []\nworking_days: []\n")
    (d / "2026.yaml").write_text("year: 2026\nholidays:\n  - {name: x, from: 2026-05-05, to: 2026-05-01}\n")
    with pytest.raises(CalendarFileError) as error:
        load_calendar(d)
    problems = "\n".join(error.value.problems)
    assert "calendar.yaml:2: unknown timezone 'Mars/Olympus'" in problems
    assert "calendar.yaml:3: span '11:00-17:30' must end after it starts and follow the previous one" in problems
    assert "2025.yaml:1: year 2024 does not match the file name 2025.yaml" in problems
    assert "2026.yaml:1: source is required" in problems
    assert "2026.yaml:3: x: from/to must be dates in 2026" in problems


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "2027.yaml").write_text("year: 2027\nsource: s\nholidays: [\n  {name: a\n")
    with pytest.raises(CalendarFileError, match=r"2027\.yaml:\d+: YAML"):
        load_calendar(d)
