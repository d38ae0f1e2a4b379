"""Events, in their order, folded into what scoring stores — pure; the one derivation both paths run.

The incremental handler folds one poll batch against the cases it locked and loaded, then writes the
batch's facts, cases, repeat-complaint halves and sums (handlers/events.py). The rebuild (replay into an
EMPTY database, handlers/rebuild.py) folds the whole backlog of the topics from the start at once and
`settle`s it: the same derivation, the same repeat-complaint rule (`repeats.nearest`), the same
attribution (`tallying.BatchTally` with every case as it is at the end), so the state it bulk-writes is
what the incremental path would hold after consuming the same records — the cards are computed from it
by the same publisher.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from schemas.case import CaseEvent
from schemas.sla import SlaEvent
from services.scoring.domain.derive import from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext
from services.scoring.domain.repeats import Closure, Opening, nearest, repeat_fact, repeat_fact_id
from services.scoring.domain.tallying import BatchTally, Recorded

T = TypeVar("T", Opening, Closure)


@dataclass
class Fold:
    """What the events folded so far established, before it is written."""

    contexts: dict[str, CaseContext]
    facts: list[Recorded] = field(default_factory=list)
    openings: list[Opening] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    traces: dict[str, str | None] = field(default_factory=dict)  # case id → trace of its latest event
    others: dict[str, CaseContext] = field(default_factory=dict)  # closed cases that repeats count against

    def context_of(self, case_id: str) -> CaseContext:
        """The case a stored fact counts through: one of the fold's, or a closed case a repeat counts
        against (a case never seen gets an empty row, which is what it would have been given)."""
        found = self.contexts.get(case_id) or self.others.get(case_id)
        return found if found is not None else self.others.setdefault(case_id, CaseContext(case_id))

    def add(self, event_id: str, traceparent: str | None, event: CaseEvent | SlaEvent) -> None:
        """One event, after those of its case before it (its facts are numbered in the event)."""
        if isinstance(event, CaseEvent):
            derived = from_case_event(event, self.contexts.get(event.case_id))
            self.contexts[event.case_id] = derived.context
            facts = derived.facts
            if derived.opening is not None:
                self.openings.append(derived.opening)
            if derived.closure is not None:
                self.closures.append(derived.closure)
            self.traces[event.case_id] = traceparent
        else:
            facts = from_sla_event(event)
        self.facts += [Recorded(event_id, i, f, traceparent) for i, f in enumerate(facts)]


@dataclass
class Settled:
    """A fold from an empty ledger, as the tables hold it: every case (with where it is counted), every
    fact (repeat complaints included), the first opening and closure of each case (a closure with its
    nearest repeating opening), and the running sums per entity."""

    cases: list[CaseContext]
    facts: list[Recorded]
    openings: list[Opening]
    closures: list[Closure]
    tally: BatchTally


def _first_per_case(items: Iterable[T]) -> list[T]:
    """A case's first opening or closure is the stored one (closed again after reopening, it stays)."""
    found: dict[str, T] = {}
    for item in items:
        found.setdefault(item.case_id, item)
    return list(found.values())


def halves(fold: Fold) -> tuple[list[Opening], list[Closure]]:
    """The stored halves of repeat complaints: each case's first opening and first closure."""
    return _first_per_case(fold.openings), _first_per_case(fold.closures)


def paired(closures: Iterable[Closure], openings: Sequence[Opening],
           traces: Mapping[str, str | None]) -> tuple[dict[str, tuple[Closure, Opening]], list[Recorded]]:
    """Every closure with its nearest repeating opening (closure id → pair), and the closures' repeat
    complaint facts (`RPT-{closure}`, in closure id order; the trace of the opening's case, else the
    closure's)."""
    pairs = nearest(closures, openings)
    return pairs, [Recorded(repeat_fact_id(c), 0, repeat_fact(c, o), traces.get(o.case_id) or traces.get(c.case_id))
                   for _, (c, o) in sorted(pairs.items())]


def counted(fold: Fold, facts: Iterable[Recorded]) -> tuple[BatchTally, list[CaseContext]]:
    """Every fact counted with its case as it is at the end (the place a case moved to, the place it was
    located late: where the incremental path ends up too), and every case as stored: the fold's in id
    order, then the closed cases repeats counted against."""
    tally = count(fold, facts)
    return tally, list(cases_counted(fold, tally))


def count(fold: Fold, facts: Iterable[Recorded]) -> BatchTally:
    """Every fact counted with its case as it is at the end (`counted`'s sums)."""
    tally = BatchTally()
    for recorded in facts:
        tally.add(recorded, fold.context_of(recorded.fact.case_id))
    return tally


def cases_counted(fold: Fold, tally: BatchTally) -> Iterator[CaseContext]:
    """Every case as stored once `tally` counted every fact (`counted`'s cases), one at a time."""
    for case_id in sorted(fold.contexts):
        yield tally.counted_now(fold.contexts[case_id])
    for case_id in sorted(fold.others):
        if tally.counted.get(case_id):
            yield tally.counted_now(fold.others[case_id])


def with_repeats(closures: Iterable[Closure], pairs: Mapping[str, tuple[Closure, Opening]]) -> list[Closure]:
    """The closures as stored: each with the time of its nearest repeating opening (`repeat_at`)."""
    return [replace(c, repeat_at=pairs[c.case_id][1].opened_at) if c.case_id in pairs else c for c in closures]


def settle(fold: Fold) -> Settled:
    """The fold of a whole log from the start: repeat complaints paired at once (each closure with its
    nearest later case, `RPT-{closure}`), every fact counted with its case as it is at the end.
    (handlers/rebuild_workers.py runs the same steps over a log split by case between processes.)"""
    openings, closures = halves(fold)
    pairs, repeats = paired(closures, openings, fold.traces)
    facts = fold.facts + repeats
    tally, cases = counted(fold, facts)
    return Settled(cases, facts, openings, with_repeats(closures, pairs), tally)
