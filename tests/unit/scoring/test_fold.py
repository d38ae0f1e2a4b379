"""The rebuild's pure fold (domain/fold.py): a whole log folded at once and settled gives the cards worked by
hand, the sums a GROUP BY over its ledger gives, every fact at the place the case ends up, and the same
repeat-complaint pairing as the incremental rule, found by bisection."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from schemas.case import CaseEvent, CaseEventKind
from schemas.score import EntityType
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.scoring.domain.cards import compute_cards
from services.scoring.domain.facts import EntityFacts, FactName, Tally, attribute
from services.scoring.domain.fold import Fold, Settled, settle
from services.scoring.domain.repeats import Closure, Opening, _nearest, nearest
from services.scoring.domain.ruler_files import load_rulers
from tests.unit.scoring.builders import (
    EXPECTED_ASSESSED,
    an_assessed_month,
    assignment,
    case_event,
    local,
    sla_event,
    suffix,
    summary,
)
from tests.unit.scoring.test_a_worked_month import RULERS, derive_all

NEW = load_rulers(RULERS).by_version["2026.12-1"]


def folded(events: list[CaseEvent | SlaEvent]) -> Settled:
    fold = Fold(contexts={})
    for event in events:
        fold.add(event.event_id, f"00-{'1' * 32}-{'2' * 16}-01", event)
    return settle(fold)


def entity_facts(settled: Settled, period: str) -> list[EntityFacts]:
    """The settled sums as the publisher reads them back from `tallies` and `entities`."""
    found: dict[tuple[str, str], EntityFacts] = {}
    for (p, etype, entity_id), delta in settled.tally.entities.items():
        if p == period:
            found[(etype, entity_id)] = EntityFacts(EntityType(etype), entity_id, cases_counted=delta.new_cases,
                                                    parent_id=delta.parent_id, as_of=delta.as_of)
    for (p, etype, entity_id, fact, tag), (n, total) in settled.tally.tallies.items():
        if p == period:
            found[(etype, entity_id)].tallies[(FactName(fact), tag)] = Tally(n, total)
    return list(found.values())


def test_the_assessed_month_folded_at_once_gives_the_cards_worked_by_hand() -> None:
    settled = folded(an_assessed_month("U3", 2031, 7))
    cards = compute_cards(NEW, entity_facts(settled, "2031-07"), "2031-07")
    assert {suffix(c, "U3"): summary(c) for c in cards} == EXPECTED_ASSESSED
    repeats = [r for r in settled.facts if r.fact.name is FactName.REPEAT_COMPLAINT]
    assert [(r.event_id, r.fact.tag) for r in repeats] == [("RPT-K1-U3", "5")]  # K3, five days after K1 closed
    paired = [c for c in settled.closures if c.repeat_at is not None]
    assert [c.case_id for c in paired] == [repeats[0].fact.case_id]  # the closure remembers its nearest case


def test_the_settled_sums_are_a_group_by_over_its_ledger_with_every_case_as_it_ends() -> None:
    events = list(an_assessed_month("U4", 2031, 7))
    settled = folded(events)
    contexts = {c.case_id: c for c in settled.cases}
    expected: dict[tuple[str, str, str, str, str], tuple[int, Decimal]] = {}
    for r in settled.facts:
        for etype, entity_id in attribute(r.fact, contexts.get(r.fact.case_id)):
            key = (r.fact.period, etype.value, entity_id, r.fact.name.value, r.fact.tag)
            n, total = expected.get(key, (0, Decimal(0)))
            expected[key] = (n + 1, total + r.fact.value)
    assert settled.tally.tallies == expected
    # ... and the same facts as the tests' own derivation of the log (facts.tally's twin)
    assert sorted(map(repr, derive_all(list(events))[0])) == sorted(
        repr((key, r.fact)) for r in settled.facts for key in attribute(r.fact, contexts.get(r.fact.case_id)))
    # every case remembers where it is counted: exactly the rows its facts count for
    for case in settled.cases:
        assert case.counted == {(r.fact.period, etype.value, entity_id) for r in settled.facts
                                if r.fact.case_id == case.case_id
                                for etype, entity_id in attribute(r.fact, case)}


def test_a_case_located_late_and_a_case_that_moved_count_only_where_they_end_up() -> None:
    at = local(2031, 8, 3, 9)
    events: list[CaseEvent | SlaEvent] = [
        sla_event("L1", SlaEventKind.MET, SlaStage.ACCEPT, at + timedelta(hours=1), "WATER"),  # before its case
        case_event("L1", 1, CaseEventKind.CREATED, at, assigned=assignment("WATER", grid="G1")),
        case_event("M1", 1, CaseEventKind.CREATED, at, assigned=assignment("WATER", grid="G1")),
        sla_event("M1", SlaEventKind.OVERDUE, SlaStage.HANDLE, at + timedelta(days=2), "WATER"),
        case_event("M1", 2, CaseEventKind.DISPATCHED, at + timedelta(days=3),
                   assigned=assignment("WATER", grid="G9", community="COMM9", street="ST9")),
    ]
    tallies = folded(events).tally.tallies
    assert tallies[("2031-08", "grid", "G1", "accept_met", "")] == (1, Decimal(1))
    assert not [k for k in tallies if k[2] == "G1" and k[3] == "handle_overdue"]
    assert tallies[("2031-08", "grid", "G9", "handle_overdue", "")] == (1, Decimal(1))
    assert tallies[("2031-08", "community", "COMM9", "case_opened", "")] == (1, Decimal(1))
    assert tallies[("2031-08", "grid", "G1", "case_opened", "")] == (1, Decimal(1))  # L1's only


def test_nearest_by_bisection_is_the_rule_over_every_pair() -> None:
    rng = random.Random(7)
    base = datetime(2031, 1, 1, tzinfo=UTC)
    places = [("A01", "G1"), ("A01", "G2"), ("B02", "G1")]

    def when() -> datetime:
        return base + timedelta(days=rng.randrange(200), hours=rng.choice((0, 0, 6)))  # ties on purpose

    for _ in range(30):
        closures = [Closure(f"K{i}", *rng.choice(places), when(), "2031-01", "WATER") for i in range(40)]
        openings = [Opening(f"K{i}", *rng.choice(places), when()) for i in range(60)]  # some are closures' own
        brute = _nearest((c, o) for c in closures for o in openings)
        assert nearest(closures, openings) == brute
