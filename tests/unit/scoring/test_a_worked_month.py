"""The worked month of README.md through the pure path: events → facts → tallies → cards.

The integration test (tests/integration/test_scoring.py) expects the very same cards from the broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas.case import CaseEvent
from services.scoring.domain.cards import compute_cards
from services.scoring.domain.derive import from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext, EntityKey, Fact, attribute, tally
from services.scoring.domain.ruler_files import load_rulers
from tests.unit.scoring.builders import EXPECTED_MONTH, EXPECTED_NEXT_MONTH, a_month_of_cases, suffix, summary

RULERS = Path(__file__).resolve().parents[3] / "services" / "scoring" / "data" / "ruler"


def derive_all(events: list[object]) -> list[tuple[EntityKey, Fact]]:
    """Facts first, then attribution with the final case context (places are joined, not copied)."""
    contexts: dict[str, CaseContext] = {}
    facts: list[Fact] = []
    for event in events:
        if isinstance(event, CaseEvent):
            derived = from_case_event(event, contexts.get(event.case_id))
            contexts[event.case_id] = derived.context
            facts.extend(derived.facts)
        else:
            facts.extend(from_sla_event(event))  # type: ignore[arg-type]
    return [(key, f) for f in facts for key in attribute(f, contexts.get(f.case_id))]


def test_a_worked_month_gives_the_published_cards() -> None:
    ruler = load_rulers(RULERS).current
    attributed = derive_all(list(a_month_of_cases("U1", 2031, 3)))
    for period, expected in (("2031-03", EXPECTED_MONTH), ("2031-04", EXPECTED_NEXT_MONTH)):
        entities = tally([(k, f) for k, f in attributed if f.period == period])
        cards = compute_cards(ruler, entities, period, computed_at=datetime(2031, 4, 2, tzinfo=UTC))
        assert {suffix(c, "U1"): summary(c) for c in cards} == expected


def test_the_order_of_events_across_topics_does_not_matter() -> None:
    events = list(a_month_of_cases("U1", 2031, 3))
    sla_first = sorted(events, key=lambda e: isinstance(e, CaseEvent))
    assert sorted(derive_all(events), key=repr) == sorted(derive_all(sla_first), key=repr)
