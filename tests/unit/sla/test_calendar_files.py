"""The calendar is versioned data; a bad edit is reported with its file and line, all problems at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.sla.adapters.calendar_files import CalendarFileError, load_calendar
from services.sla.settings import HERE

SHIPPED = HERE / "data" / "calendar"


def test_shipped_calendar_has_2025_to_2027() -> None:
    calendar = load_calendar(SHIPPED)
    assert calendar.version
    assert {2025, 2026, 2027} <= calendar.years
    assert calendar.provisional_years == {2027}


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
