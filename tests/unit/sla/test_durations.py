"""Limits as the list writes them, and the urgency rule."""

from __future__ import annotations

import pytest

from schemas.common import Urgency
from services.sla.domain.durations import Duration, Unit, for_urgency, parse_duration


@pytest.mark.parametrize(("text", "clock", "expected"), [
    ("30m", "natural", Duration(30, Unit.MINUTES, False)),
    ("2h", "working", Duration(2, Unit.HOURS, True)),
    ("3d", "working", Duration(3, Unit.DAYS, False)),
    ("5wd", "natural", Duration(5, Unit.WORKING_DAYS, True)),
])
def test_parse(text: str, clock: str, expected: Duration) -> None:
    assert parse_duration(text, clock) == expected


@pytest.mark.parametrize("bad", ["", "0h", "2 hours", "-1d", "3w"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(bad)


def test_urgency_rule() -> None:
    assert for_urgency(parse_duration("3wd"), Urgency.NORMAL) == Duration(3, Unit.WORKING_DAYS, True)
    assert for_urgency(parse_duration("3wd"), Urgency.URGENT) == Duration(3, Unit.DAYS, False)
    assert for_urgency(parse_duration("2h", "working"), Urgency.CRITICAL) == Duration(60, Unit.MINUTES, False)
    assert for_urgency(parse_duration("20m"), Urgency.CRITICAL) == Duration(15, Unit.MINUTES, False)
