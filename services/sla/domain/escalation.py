"""The escalation ladder (提级) and its paperwork, "两函一单": 信访风险警示函 risk warning letter,
信访问责建议函 accountability letter, 督办单 supervision order."""

from __future__ import annotations

from enum import StrEnum

from schemas.common import Level

_ORDER = list(Level)  # lowest first: grid, community, street, district, supervision


class Document(StrEnum):
    RISK_WARNING_LETTER = "risk_warning_letter"  # 信访风险警示函: a case's first escalation
    ACCOUNTABILITY_LETTER = "accountability_letter"  # 信访问责建议函: the second and later ones
    SUPERVISION_ORDER = "supervision_order"  # 督办单: whenever the case reaches supervision


def next_rung(level: Level | None, ladder: tuple[Level, ...]) -> Level | None:
    """The first rung of the item's ladder above the current level (None: top reached, or no level)."""
    if level is None:
        return None
    above = [step for step in ladder if _ORDER.index(step) > _ORDER.index(level)]
    return min(above, key=_ORDER.index) if above else None


def document_for(escalation_number: int, to_level: Level) -> Document:
    """Which paper goes with the case's n-th escalation (1-based)."""
    if to_level is Level.SUPERVISION:
        return Document.SUPERVISION_ORDER
    return Document.RISK_WARNING_LETTER if escalation_number <= 1 else Document.ACCOUNTABILITY_LETTER
