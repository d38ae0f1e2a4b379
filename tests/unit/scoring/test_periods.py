"""Periods are calendar months in Asia/Shanghai (UTC+8), by the event's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.scoring.domain.periods import period_of


def test_last_utc_evening_of_november_is_already_december_in_shanghai() -> None:
    assert period_of(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)) == "2026-11"
    assert period_of(datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC)) == "2026-12"


def test_new_year_boundary() -> None:
    assert period_of(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01"


def test_the_producers_zone_does_not_matter() -> None:
    beijing = timezone(timedelta(hours=8))
    assert period_of(datetime(2026, 12, 1, 0, 0, tzinfo=beijing)) == "2026-12"
    assert period_of(datetime(2026, 11, 30, 23, 59, tzinfo=beijing)) == "2026-11"


def test_a_naive_time_is_taken_as_utc() -> None:
    assert period_of(datetime(2026, 11, 30, 16, 0)) == "2026-12"
