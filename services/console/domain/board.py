"""The overdue and due-soon board (超期 / 临期): counts per street, department and rung reached."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTS = {
    "risk_warning_letter": "信访风险警示函",
    "accountability_letter": "信访问责建议函",
    "supervision_order": "督办单",
}


def counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per street, per department (owner) and per rung (the level the stage is held at, or reached)."""
    street: Counter[str] = Counter()
    department: Counter[str] = Counter()
    rung: Counter[str] = Counter()
    for r in rows:
        street[r.get("street_id") or "—"] += 1
        department[r.get("owner") or "—"] += 1
        rung[r.get("rung") or r.get("level") or "—"] += 1
    return {"street": dict(street.most_common()), "department": dict(department.most_common()),
            "rung": dict(rung.most_common())}
