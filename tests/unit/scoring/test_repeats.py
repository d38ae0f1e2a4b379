"""重复投诉: the same item in the same grid after a closure — counted once per closed case, for its month
and handler, tagged with the whole days to the nearest new case, whatever order the halves arrive in."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import permutations

from schemas.score import EntityType
from services.scoring.domain.facts import EntityFacts, Fact, FactName, Tally
from services.scoring.domain.repeats import (
    Closure,
    Opening,
    improvements,
    repeat_complaint,
    repeat_complaints,
    repeat_fact_id,
)

CLOSED = datetime(2026, 11, 10, 2, tzinfo=UTC)
closure = Closure("K1", "A01", "G1", CLOSED, "2026-11", "WATER")


def opening(case_id: str, days: int, hours: int = 1) -> Opening:
    return Opening(case_id, "A01", "G1", CLOSED + timedelta(days=days, hours=hours))


def test_a_new_case_on_the_same_item_and_grid_after_closure_repeats_it() -> None:
    fact = repeat_complaint(closure, Opening("K2", "A01", "G1", CLOSED + timedelta(days=12, hours=5)))
    assert fact is not None
    assert (fact.name, fact.case_id, fact.period, fact.department, fact.tag, fact.at) == (
        FactName.REPEAT_COMPLAINT, "K1", "2026-11", "WATER", "12", CLOSED)  # whole days elapsed, for `within_days`
    assert repeat_fact_id(closure) == "RPT-K1"  # one per closure: found by both halves, stored once


def test_another_item_another_grid_before_closure_or_beyond_the_window_do_not() -> None:
    assert repeat_complaint(closure, Opening("K2", "A02", "G1", CLOSED + timedelta(days=1))) is None
    assert repeat_complaint(closure, Opening("K2", "A01", "G2", CLOSED + timedelta(days=1))) is None
    assert repeat_complaint(closure, Opening("K0", "A01", "G1", CLOSED - timedelta(hours=1))) is None
    assert repeat_complaint(closure, Opening("K2", "A01", "G1", CLOSED + timedelta(days=91))) is None
    assert repeat_complaint(closure, Opening("K1", "A01", "G1", CLOSED + timedelta(days=1))) is None


def test_three_new_cases_after_one_closure_are_one_repeat_complaint_tagged_with_the_nearest() -> None:
    facts = repeat_complaints([closure], [opening("K4", 40), opening("K2", 3), opening("K3", 12)])
    assert [(f.case_id, f.tag) for f in facts] == [("K1", "3")]


def test_one_new_case_after_several_closures_counts_at_most_once_for_each() -> None:
    closures = [replace(closure, case_id=f"C{d}", closed_at=CLOSED - timedelta(days=d)) for d in (1, 5, 20, 100)]
    facts = repeat_complaints(closures, [opening("K9", 2)])
    assert sorted((f.case_id, f.tag) for f in facts) == [("C1", "3"), ("C20", "22"), ("C5", "7")]  # C100: too old


def _tally(facts: list[Fact]) -> EntityFacts:
    counts = Counter(f.tag for f in facts)
    return EntityFacts(EntityType.DEPARTMENT, "WATER",
                       tallies={(FactName.REPEAT_COMPLAINT, t): Tally(n, Decimal(n)) for t, n in counts.items()})


def test_the_rulers_window_counts_closures_whose_nearest_repeat_is_under_n_whole_days() -> None:
    closures = [replace(closure, case_id=f"C{d}", closed_at=CLOSED - timedelta(days=d)) for d in (0, 1)]
    # C0: the nearest new case 29 days 23 hours later (tag 29, within 30); C1: 30 days 1 hour (tag 30, not)
    facts = repeat_complaints(closures, [opening("K2", 29, hours=23), opening("K3", 44)])
    assert sorted((f.case_id, f.tag) for f in facts) == [("C0", "29"), ("C1", "30")]
    entity = _tally(facts)
    assert (entity.count(FactName.REPEAT_COMPLAINT, within=30), entity.count(FactName.REPEAT_COMPLAINT)) == (1, 2)


class _Ledger:
    """The handler's incremental pairing, in memory: each half stored as it arrives, the stored other
    halves it pairs with looked up, and the closure's fact written or corrected (retract + replace)."""

    def __init__(self) -> None:
        self.closures: dict[str, Closure] = {}
        self.openings: list[Opening] = []
        self.facts: dict[str, Fact] = {}
        self.tallies: Counter[str] = Counter()  # tag → n, as the running sums keep them

    def arrive(self, half: Closure | Opening) -> None:
        if isinstance(half, Closure):
            self.closures[half.case_id] = half
            pairs = [(half, o) for o in self.openings]
        else:
            self.openings.append(half)
            pairs = [(c, half) for c in self.closures.values()
                     if c.repeat_at is None or half.opened_at < c.repeat_at]  # only closures it can improve
        for repeat in improvements(pairs):
            self.closures[repeat.closure.case_id] = replace(repeat.closure, repeat_at=repeat.opening.opened_at)
            if repeat.replaces is not None:
                self.tallies[repeat.replaces.tag] -= 1
            self.tallies[repeat.fact.tag] += 1
            self.facts[repeat_fact_id(repeat.closure)] = repeat.fact


def test_every_order_of_arrival_gives_the_same_facts_and_sums() -> None:
    closures = [replace(closure, case_id=f"C{d}", closed_at=CLOSED - timedelta(days=d)) for d in (0, 4)]
    halves: list[Closure | Opening] = [*closures, opening("K2", 31), opening("K3", 2), opening("K4", 9)]
    expected = {f"RPT-{f.case_id}": f for f in repeat_complaints(closures, [h for h in halves
                                                                        if isinstance(h, Opening)])}
    assert {k: f.tag for k, f in expected.items()} == {"RPT-C0": "2", "RPT-C4": "6"}
    for order in permutations(halves):
        ledger = _Ledger()
        for half in order:
            ledger.arrive(half)
        assert ledger.facts == expected, order
        assert +ledger.tallies == Counter(f.tag for f in expected.values()), order  # retracted where corrected


def test_the_numerator_never_exceeds_the_closures() -> None:
    closures = [replace(closure, case_id=f"C{i}", closed_at=CLOSED + timedelta(days=i)) for i in range(5)]
    openings = [opening(f"K{i}", i, hours=h) for i in range(8) for h in (2, 7)]
    facts = repeat_complaints(closures, openings)
    assert len(facts) == len({f.case_id for f in facts}) <= len(closures)
    assert len(facts) == 5
