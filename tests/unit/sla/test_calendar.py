"""Working-time arithmetic across lunch, nights, weekends, holidays and 调休 working weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.sla.domain.calendar import Calendar, CalendarError
from services.sla.domain.durations import parse_duration
from tests.unit.sla.conftest import local


def add(calendar: Calendar, start: str, limit: str, clock: str = "working") -> datetime:
    return calendar.add(local(start), parse_duration(limit, clock))


def test_working_hours_stop_for_lunch(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-10 11:00", "2h") == local("2026-03-10 14:30")


def test_working_hours_stop_overnight(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-10 16:30", "2h") == local("2026-03-11 09:30")


def test_deadline_ends_at_closing_time_not_next_morning(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-10 16:30", "1h") == local("2026-03-10 17:30")


def test_start_at_night_counts_from_the_next_morning(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-10 22:00", "30m") == local("2026-03-11 09:00")


def test_friday_afternoon_runs_into_monday(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-13 17:00", "4h") == local("2026-03-16 12:00")


def test_national_day_holiday_is_skipped_and_tiaoxiu_saturday_counts(calendar: Calendar) -> None:
    # 2026-10-01..07 off; Thu 8, Fri 9 and Saturday 10 (调休) are working days
    assert add(calendar, "2026-09-30 16:00", "3wd") == local("2026-10-10 16:00")
    assert add(calendar, "2026-09-30 16:00", "2h") == local("2026-10-08 09:00")


def test_tiaoxiu_sunday_before_national_day_is_a_working_day(calendar: Calendar) -> None:
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday, 调休
    assert add(calendar, "2026-09-19 10:00", "1h") == local("2026-09-20 09:30")  # Saturday → that Sunday


def test_spring_festival_2026(calendar: Calendar) -> None:
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday 调休
    assert not any(calendar.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert add(calendar, "2026-02-13 10:00", "2wd") == local("2026-02-24 10:00")


def test_new_year_2026_and_its_sunday(calendar: Calendar) -> None:
    assert not calendar.is_working_day(date(2026, 1, 2))  # Friday off
    assert calendar.is_working_day(date(2026, 1, 4))  # Sunday 调休
    assert add(calendar, "2025-12-31 17:00", "1h") == local("2026-01-04 09:00")


def test_working_day_keeps_the_clock_time(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-12 10:15", "1wd") == local("2026-03-13 10:15")
    assert add(calendar, "2026-03-13 10:15", "1wd") == local("2026-03-16 10:15")  # Friday → Monday


def test_working_day_from_a_weekend_starts_monday_morning(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-14 10:00", "1wd") == local("2026-03-17 08:30")


def test_working_day_from_lunch_starts_at_half_past_one(calendar: Calendar) -> None:
    assert add(calendar, "2026-03-10 12:30", "1wd") == local("2026-03-11 13:30")


def test_natural_limits_ignore_the_calendar(calendar: Calendar) -> None:
    assert add(calendar, "2026-10-01 10:00", "2h", "natural") == local("2026-10-01 12:00")
    assert add(calendar, "2026-10-01 10:00", "3d", "natural") == local("2026-10-04 10:00")
    assert add(calendar, "2026-03-14 10:00", "1d", "working") == local("2026-03-15 10:00")  # d is always natural


def test_working_time_between(calendar: Calendar) -> None:
    assert calendar.working_time_between(local("2026-03-10 11:00"), local("2026-03-10 14:30")) == timedelta(hours=2)
    assert calendar.working_time_between(local("2026-03-13 17:00"), local("2026-03-16 09:00")) == timedelta(hours=1)
    assert calendar.working_time_between(local("2026-10-01 09:00"), local("2026-10-07 17:00")) == timedelta(0)
    assert calendar.working_time_between(local("2026-03-10 12:00"), local("2026-03-10 11:00")) == timedelta(0)
    day = timedelta(hours=7, minutes=30)
    assert calendar.working_time_between(local("2026-03-09 00:00"), local("2026-03-16 00:00")) == 5 * day


def test_add_and_between_agree(calendar: Calendar) -> None:
    start = local("2026-09-29 15:10")
    for minutes in (1, 50, 200, 451, 1000, 3000):
        due = calendar.add_working(start, timedelta(minutes=minutes))
        assert calendar.working_time_between(start, due) == timedelta(minutes=minutes)


def test_results_are_the_same_instant_in_any_zone(calendar: Calendar) -> None:
    start_utc = local("2026-03-10 11:00").astimezone(UTC)
    assert calendar.add(start_utc, parse_duration("2h", "working")) == local("2026-03-10 14:30")


def test_naive_datetimes_are_refused(calendar: Calendar) -> None:
    with pytest.raises(CalendarError, match="naive"):
        calendar.add(datetime(2026, 3, 10, 11), parse_duration("2h", "working"))


def test_2027_is_provisional_but_new_year_is_off(calendar: Calendar) -> None:
    assert not calendar.covers(date(2027, 3, 1))
    assert calendar.covers(date(2026, 3, 1))
    assert not calendar.is_working_day(date(2027, 1, 1))
