"""重复投诉: a new case about the same item in the same grid within N days after a case was closed.

Counted against the closed case — for the department that handled it, in the month it closed — so
重复投诉率 is a share of that month's closures. The two halves arrive in either order (case ids land on
different partitions, replays interleave them differently): whichever is stored second finds the
other, and the fact's id names the pair, so it is stored once whatever the order. Pairs are kept up to
`WINDOW`; a ruler's `within_days` (≤ 90) picks its own N from the elapsed-days tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.scoring.domain.facts import Fact, FactName

WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Closure:
    case_id: str
    item_code: str
    grid_id: str
    closed_at: datetime
    period: str  # the month it closed
    department: str | None  # who handled it (resolved it last)


@dataclass(frozen=True)
class Opening:
    case_id: str
    item_code: str
    grid_id: str
    opened_at: datetime


def repeat_fact_id(closure: Closure, opening: Opening) -> str:
    return f"RPT-{closure.case_id}-{opening.case_id}"


def repeat_complaint(closure: Closure, opening: Opening) -> Fact | None:
    """The fact, when the opening repeats the closure's problem within the window; else None."""
    same = (closure.item_code, closure.grid_id) == (opening.item_code, opening.grid_id)
    elapsed = opening.opened_at - closure.closed_at
    if not same or closure.case_id == opening.case_id or not timedelta(0) < elapsed <= WINDOW:
        return None
    return Fact(name=FactName.REPEAT_COMPLAINT, case_id=closure.case_id, period=closure.period,
                tag=str(elapsed.days), department=closure.department, at=opening.opened_at)


def repeat_complaints(closures: list[Closure], openings: list[Opening]) -> list[Fact]:
    """Every repeat complaint among them — the pure twin of the handler's two-sided lookup (tests)."""
    found = (repeat_complaint(c, o) for c in closures for o in openings)
    return [f for f in found if f is not None]
