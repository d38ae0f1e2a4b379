"""The official calendar from the maintained `holidays` package (its China module): 放假 days and the
weekend days that are working days (调休) for every year the State Council has published, and the
statutory days alone for the years after (the fallback, provisional until the notice is in the package
or in an operator's year file). Read once at start; the result is plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays
from holidays import version as holidays_version
from holidays.countries.china import ChinaStaticHolidays

FIRST_YEAR = 2020
FALLBACK_YEARS = 5  # statutory days are known this many years past the last published notice


@dataclass(frozen=True)
class OfficialDays:
    version: str  # e.g. holidays-0.108
    official_years: frozenset[int]  # years with the State Council's arrangement (调休 included)
    fallback_years: frozenset[int]  # statutory days only: deadlines reaching them are provisional
    days_off: frozenset[date]
    working_weekend_days: frozenset[date]


def from_package(first_year: int = FIRST_YEAR) -> OfficialDays:
    """What the installed package knows. A year counts as published when the package lists its special
    arrangement (the notice's bridge days and 调休); the years after are statutory days only."""
    last = max(ChinaStaticHolidays.special_public_holidays)
    official = range(first_year, last + 1)
    fallback = range(last + 1, last + 1 + FALLBACK_YEARS)
    china = holidays.country_holidays("CN", years=[*official, *fallback])
    return OfficialDays(
        version=f"holidays-{holidays_version.__version__}", official_years=frozenset(official),
        fallback_years=frozenset(fallback), days_off=frozenset(china.keys()),
        working_weekend_days=frozenset(d for d in china.weekend_workdays if first_year <= d.year <= last),
    )
