"""The shipped calendar, loaded once: unit tests exercise the real data, not a stand-in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.sla.adapters.calendar_files import load_calendar
from services.sla.domain.calendar import Calendar
from services.sla.settings import HERE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """`local("2026-09-30 16:00")` → that wall-clock time in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def calendar() -> Calendar:
    return load_calendar(HERE / "data" / "calendar")
