"""重复投诉: a new case about the same item in the same grid within N days after a case was closed.

Counted against the closed case — for the department that handled it, in the month it closed — so
重复投诉率 is the share of that month's closures that drew a repeat complaint: at most ONE fact per
closure, tagged with the whole days to the EARLIEST new case after it (a ruler's `within_days` ≤ 90
picks its own N from that minimum). The two halves arrive in either order (case ids land on different
partitions, replays interleave them differently): whichever is stored second finds the other, and a
closure remembers the nearest opening paired so far (`repeat_at`), so a nearer one that arrives later
corrects the closure's fact (`RPT-{closure}`, one per closure, so a redelivery never doubles it) and a
farther one is not even looked up. The final facts do not depend on the order of arrival. The fact's
`at` is the closure's time, so a correction never moves a card's `computed_at` either.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
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
    repeat_at: datetime | None = None  # the nearest opening after it paired so far (as stored)


@dataclass(frozen=True)
class Opening:
    case_id: str
    item_code: str
    grid_id: str
    opened_at: datetime


@dataclass(frozen=True)
class Repeat:
    """A closure's fact as it is now, and the one it corrects (None: the closure's first)."""

    closure: Closure
    opening: Opening
    fact: Fact
    replaces: Fact | None = None

    @property
    def changes_the_fact(self) -> bool:
        """A nearer opening on the same whole day leaves the fact as it is (only `repeat_at` moves)."""
        return self.replaces != self.fact


def repeat_fact_id(closure: Closure) -> str:
    return f"RPT-{closure.case_id}"


def repeat_fact(closure: Closure, opening: Opening) -> Fact:
    """The closure's one fact when `opening` is its nearest repeating case."""
    return _fact(closure, opening.opened_at)


def _fact(closure: Closure, opened_at: datetime) -> Fact:
    return Fact(name=FactName.REPEAT_COMPLAINT, case_id=closure.case_id, period=closure.period,
                tag=str((opened_at - closure.closed_at).days), department=closure.department, at=closure.closed_at)


def repeat_complaint(closure: Closure, opening: Opening) -> Fact | None:
    """The fact, when the opening repeats the closure's problem within the window; else None."""
    same = (closure.item_code, closure.grid_id) == (opening.item_code, opening.grid_id)
    elapsed = opening.opened_at - closure.closed_at
    if not same or closure.case_id == opening.case_id or not timedelta(0) < elapsed <= WINDOW:
        return None
    return _fact(closure, opening.opened_at)


def _nearest(pairs: Iterable[tuple[Closure, Opening]]) -> dict[str, tuple[Closure, Opening]]:
    """Per closure, its nearest repeating opening among the pairs (ties: the lowest case id)."""
    found: dict[str, tuple[Closure, Opening]] = {}
    for closure, opening in pairs:
        if repeat_complaint(closure, opening) is None:
            continue
        best = found.get(closure.case_id)
        if best is None or (opening.opened_at, opening.case_id) < (best[1].opened_at, best[1].case_id):
            found[closure.case_id] = (closure, opening)
    return found


def improvements(pairs: Iterable[tuple[Closure, Opening]]) -> list[Repeat]:
    """What pairs found by a batch change: per closure, its nearest opening when it is nearer than the
    one it was paired with (`Closure.repeat_at`) — a new fact, or a correction of the stored one. In
    closure id order."""
    changed = []
    for _, (closure, opening) in sorted(_nearest(pairs).items()):
        if closure.repeat_at is not None and closure.repeat_at <= opening.opened_at:
            continue
        fact = _fact(closure, opening.opened_at)
        old = _fact(closure, closure.repeat_at) if closure.repeat_at is not None else None
        changed.append(Repeat(closure, opening, fact, old))
    return changed


def candidates(closures: Iterable[Closure], openings: Sequence[Opening]) -> Iterator[tuple[Closure, Opening]]:
    """Per closure, the openings of its item and grid at the earliest time after it (another case's):
    the only ones that can be its nearest. What the database's lookup finds for a stored closure, found
    in memory by bisection over each place's openings in time order (a rebuild pairs a year at once)."""
    by_place: dict[tuple[str, str], list[Opening]] = {}
    for opening in sorted(openings, key=lambda o: (o.opened_at, o.case_id)):
        by_place.setdefault((opening.item_code, opening.grid_id), []).append(opening)
    times = {place: [o.opened_at for o in found] for place, found in by_place.items()}
    for closure in closures:
        place = (closure.item_code, closure.grid_id)
        found = by_place.get(place)
        if found is None:
            continue
        first = None
        for opening in found[bisect_right(times[place], closure.closed_at):]:
            if first is not None and opening.opened_at != first:
                break
            if opening.case_id != closure.case_id:
                first = opening.opened_at
                yield closure, opening


def nearest(closures: Iterable[Closure], openings: Sequence[Opening]) -> dict[str, tuple[Closure, Opening]]:
    """Every closure's nearest repeating opening (closure id → pair), from all of both halves at once."""
    return _nearest(candidates(closures, openings))


def repeat_complaints(closures: list[Closure], openings: list[Opening]) -> list[Fact]:
    """Every closure's repeat complaint, from all of both halves at once (the rebuild's pairing; tests
    check it against the handler's incremental pairing)."""
    return [_fact(c, o.opened_at) for _, (c, o) in sorted(nearest(closures, openings).items())]
