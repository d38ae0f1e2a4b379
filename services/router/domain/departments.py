"""Owner codes and handling levels, as published in docs/departments.md."""

from __future__ import annotations

DEPARTMENT_CODES: frozenset[str] = frozenset(
    {
        "CENTER",
        "URBAN_MGMT",
        "HOUSING",
        "PROPERTY",
        "ECO_ENV",
        "WATER",
        "TRANSPORT",
        "TRAFFIC_POLICE",
        "POLICE",
        "MARKET",
        "EMERGENCY",
        "FIRE",
        "CIVIL_AFFAIRS",
        "HR_SOCIAL",
        "HEALTH",
        "EDUCATION",
        "NATURAL_RES",
        "AGRICULTURE",
        "GREENERY",
        "CULTURE",
        "JUSTICE",
        "PETITION",
        "DISABLED",
        "VETERANS",
        "POWER",
        "WATER_SUPPLY",
        "GAS",
        "TELECOM",
        "BUS",
        "HEATING",
    }
)
"""District departments and public utilities (区级部门与公用事业单位)."""

LOCATIONAL_OWNERS: frozenset[str] = frozenset({"GRID", "COMMUNITY", "STREET"})
"""Owners resolved from the located grid: its grid worker, community committee, street office."""

LEVELS: tuple[str, ...] = ("grid", "community", "street", "district")
"""Handling levels, lowest first."""

SUPERVISION = "supervision"
"""The top of every escalation ladder: the centre's supervision order (督办单)."""

LOCATIONAL_LEVEL: dict[str, str] = {"GRID": "grid", "COMMUNITY": "community", "STREET": "street"}
"""The level at which a locational owner works."""
