"""The rebuild's fold split by case (handlers/rebuild_workers.py), step by step as the workers and the
process that writes do it: each part folded alone, the halves paired together, each part counted with its
share of the repeat complaints, the sums added — the same cases, facts, halves and sums as one fold."""

from __future__ import annotations

import itertools

from schemas.case import CaseEvent
from schemas.sla import SlaEvent
from services.scoring.domain.fold import Fold, counted, halves, paired, settle, with_repeats
from services.scoring.domain.tallying import BatchTally, EntityRow, latest_links, merged
from services.scoring.handlers.rebuild_workers import owner
from tests.unit.scoring.builders import an_assessed_month

TRACE = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"


def fold_of(events: list[CaseEvent | SlaEvent]) -> Fold:
    fold = Fold(contexts={})
    for event in events:
        fold.add(event.event_id, f"{TRACE}:{event.event_id}", event)
    return fold


def stored(tally: BatchTally) -> dict[EntityRow, tuple[object, ...]]:
    """The entities as `entities` holds them (the links cut to the latest)."""
    return {row: (d.parent_id, d.as_of, d.new_cases, latest_links(d.links), d.dropped)
            for row, d in tally.entities.items()}


def months() -> list[CaseEvent | SlaEvent]:
    """Assessed months: in some, the repeat complaint's two cases (K3 repeating K1) fall to different parts."""
    tags = [f"S{n}" for n in range(40)]
    crossing = [t for t in tags if owner(f"K1-{t}".encode(), 2) != owner(f"K3-{t}".encode(), 2)][:2]
    staying = [t for t in tags if owner(f"K1-{t}".encode(), 2) == owner(f"K3-{t}".encode(), 2)][:2]
    return [e for m, tag in enumerate(crossing + staying, start=1) for e in an_assessed_month(tag, 2033, m)]


def test_a_log_split_by_case_and_added_up_is_the_log_folded_at_once() -> None:
    events = months()
    one = settle(fold_of(events))
    parts = [fold_of([e for e in events if owner(e.case_id.encode(), 2) == i]) for i in range(2)]
    assert all(p.contexts for p in parts)
    split = [halves(p) for p in parts]
    traces = {case_id: t for p in parts for case_id, t in p.traces.items()}
    pairs, repeats = paired([c for _, cs in split for c in cs], [o for os, _ in split for o in os], traces)
    assert {owner(c.case_id.encode(), 2) for c, o in pairs.values()} == {0, 1}
    assert any(owner(c.case_id.encode(), 2) != owner(o.case_id.encode(), 2) for c, o in pairs.values())
    counts = [counted(p, itertools.chain(p.facts, (r for r in repeats if owner(r.fact.case_id.encode(), 2) == i)))
              for i, p in enumerate(parts)]
    tally = merged(t for t, _ in counts)
    assert sorted(c.case_id for _, cases in counts for c in cases) == sorted(c.case_id for c in one.cases)
    assert {c.case_id: c for _, cases in counts for c in cases} == {c.case_id: c for c in one.cases}
    key = lambda r: (r.event_id, r.ordinal)  # noqa: E731
    assert sorted([f for p in parts for f in p.facts] + repeats, key=key) == sorted(one.facts, key=key)
    assert tally.tallies == one.tally.tallies
    assert stored(tally) == stored(one.tally)
    assert sorted((o for os, _ in split for o in os), key=lambda o: o.case_id) == sorted(one.openings,
                                                                                           key=lambda o: o.case_id)
    closures = with_repeats((c for _, cs in split for c in cs), pairs)
    assert sorted(closures, key=lambda c: c.case_id) == sorted(one.closures, key=lambda c: c.case_id)

