"""Incident kinds: what citizens and grid workers report, as text templates.

Placeholders: ``{loc}`` place phrase (road + number, compound + building, or unit name),
``{road}``, ``{unit}``, ``{community}``, ``{days}``, ``{elder}``. Unused placeholders are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Where = Literal["road", "compound", "school", "hospital", "industrial_park", "river_section", "market",
                "scenic_area"]
AppealType = Literal["咨询", "求助", "投诉", "举报", "建议"]
Urgency = Literal["normal", "urgent", "critical"]


@dataclass(frozen=True)
class Kind:
    kind: str
    hint: str
    where: tuple[Where, ...]
    appeals: tuple[AppealType, ...]
    urgency: tuple[int, int, int]
    """Weights of normal, urgent, critical."""
    citizen: tuple[str, ...]
    worker: tuple[str, ...]
    weight: float = 1.0


def kind(name: str, hint: str, where: str, appeals: str, urgency: tuple[int, int, int],
         citizen: tuple[str, ...], worker: tuple[str, ...], weight: float = 1.0) -> Kind:
    """Compact constructor: ``where`` and ``appeals`` are space-separated."""
    wh: tuple[Where, ...] = tuple(w for w in _WHERE if w in where.split())
    ap: tuple[AppealType, ...] = tuple(a for a in _APPEALS if a in appeals.split())
    if not wh or not ap:
        raise ValueError(name)
    return Kind(name, hint, wh, ap, urgency, citizen, worker, weight)


_WHERE: tuple[Where, ...] = ("road", "compound", "school", "hospital", "industrial_park", "river_section",
                             "market", "scenic_area")
_APPEALS: tuple[AppealType, ...] = ("咨询", "求助", "投诉", "举报", "建议")
