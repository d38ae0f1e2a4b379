"""重复投诉: the same item in the same grid after a closure — counted for the closed case's month and handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from schemas.score import EntityType
from services.scoring.domain.facts import EntityFacts, FactName, Tally
from services.scoring.domain.repeats import Closure, Opening, repeat_complaint, repeat_complaints

CLOSED = datetime(2026, 11, 10, 2, tzinfo=UTC)
closure = Closure("K1", "A01", "G1", CLOSED, "2026-11", "WATER")


def test_a_new_case_on_the_same_item_and_grid_after_closure_repeats_it() -> None:
    fact = repeat_complaint(closure, Opening("K2", "A01", "G1", CLOSED + timedelta(days=12, hours=5)))
    assert fact is not None
    assert (fact.name, fact.case_id, fact.period, fact.department, fact.tag) == (
        FactName.REPEAT_COMPLAINT, "K1", "2026-11", "WATER", "12")  # whole days elapsed, for `within_days`


def test_another_item_another_grid_before_closure_or_beyond_the_window_do_not() -> None:
    assert repeat_complaint(closure, Opening("K2", "A02", "G1", CLOSED + timedelta(days=1))) is None
    assert repeat_complaint(closure, Opening("K2", "A01", "G2", CLOSED + timedelta(days=1))) is None
    assert repeat_complaint(closure, Opening("K0", "A01", "G1", CLOSED - timedelta(hours=1))) is None
    assert repeat_complaint(closure, Opening("K2", "A01", "G1", CLOSED + timedelta(days=91))) is None
    assert repeat_complaint(closure, Opening("K1", "A01", "G1", CLOSED + timedelta(days=1))) is None


def test_the_rulers_window_picks_from_the_elapsed_days() -> None:
    openings = [Opening(f"K{d}", "A01", "G1", CLOSED + timedelta(days=d, hours=1)) for d in (3, 29, 30, 45)]
    tags = {f.tag for f in repeat_complaints([closure], openings)}
    entity = EntityFacts(EntityType.DEPARTMENT, "WATER",
                         tallies={(FactName.REPEAT_COMPLAINT, t): Tally(1, Decimal(1)) for t in tags})
    assert (entity.count(FactName.REPEAT_COMPLAINT, within=30), entity.count(FactName.REPEAT_COMPLAINT)) == (2, 4)
