"""Ruler 2026.12-1 — the indicators as assessments define them — on the month of README.md ("an assessed
month"), worked by hand: returns judged justified and not, a reworked case, a late rating, a repeat
complaint, and the same month under the earlier ruler side by side."""

from __future__ import annotations

from services.scoring.domain.ruler_files import load_rulers
from tests.unit.scoring.builders import (
    AFFECTED_BY_THE_LATE_RATING,
    EXPECTED_ASSESSED,
    an_assessed_month,
    suffix,
    summary,
)
from tests.unit.scoring.test_a_worked_month import RULERS, cards_of

BOOK = load_rulers(RULERS)
NEW, OLD = BOOK.by_version["2026.12-1"], BOOK.by_version["2026.11-1"]


def test_every_indicator_of_the_assessed_month_is_what_was_computed_by_hand() -> None:
    cards = cards_of(NEW, list(an_assessed_month("U2", 2031, 7)), "2031-07")
    assert {suffix(c, "U2"): summary(c) for c in cards} == EXPECTED_ASSESSED
    assert {c.parent_id for c in cards if c.entity_type.value == "community"} == {"S_U2"}


def test_the_late_rating_changes_exactly_the_cards_of_the_entities_it_counts_for() -> None:
    events = list(an_assessed_month("U2", 2031, 7))
    before = {suffix(c, "U2"): c for c in cards_of(NEW, events[:-1], "2031-07")}
    after = {suffix(c, "U2"): c for c in cards_of(NEW, events, "2031-07")}
    assert {k for k in after if after[k] != before.get(k)} == AFFECTED_BY_THE_LATE_RATING
    assert (before["department:DEPT_A"].total, before["department:DEPT_A"].rank) == (56, 3)  # no rating: 80 % of 20


def test_the_earlier_ruler_scores_the_same_month_side_by_side_and_counts_every_return() -> None:
    events = list(an_assessed_month("U2", 2031, 7))
    old = {suffix(c, "U2"): c for c in cards_of(OLD, events, "2031-07")}
    new = {suffix(c, "U2"): c for c in cards_of(NEW, events, "2031-07")}
    returns = next(i for i in old["department:DEPT_A"].indicators if i.code == "return_rate")
    assert (returns.numerator, returns.denominator, str(returns.points)) == (2, 4, "0.00")  # justified or not
    assert old["department:DEPT_A"].key != new["department:DEPT_A"].key  # neither overwrites the other
    assert {k.split(":")[0] for k in new} - {k.split(":")[0] for k in old} == {"grid", "hotline", "center"}
