"""Assessment periods: calendar months in Asia/Shanghai, whatever zone an event's clock was in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def period_of(at: datetime) -> str:
    """`YYYY-MM` of the local (Beijing) month: 2026-11-30T16:30Z is already 2026-12 in Shanghai.

    A naive timestamp is taken as UTC, the zone every Gridline producer writes in."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    local = aware.astimezone(LOCAL_TZ)
    return f"{local.year:04d}-{local.month:02d}"


def is_period(text: str) -> bool:
    return bool(PERIOD_PATTERN.match(text))
