"""The worked month of README.md through the pure path: events → facts → tallies → cards.

The integration test (tests/integration/test_scoring.py) expects the very same cards from the broker."""

from __future__ import annotations

from pathlib import Path

from schemas.case import CaseEvent
from schemas.score import ScoreCard
from services.scoring.domain.cards import compute_cards
from services.scoring.domain.derive import from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext, EntityKey, Fact, attribute, parent_of, tally
from services.scoring.domain.repeats import Closure, Opening, repeat_complaints
from services.scoring.domain.ruler import Ruler
from services.scoring.domain.ruler_files import load_rulers
from tests.unit.scoring.builders import EXPECTED_MONTH, EXPECTED_NEXT_MONTH, a_month_of_cases, suffix, summary

RULERS = Path(__file__).resolve().parents[3] / "services" / "scoring" / "data" / "ruler"


def derive_all(events: list[object]) -> tuple[list[tuple[EntityKey, Fact]], dict[EntityKey, str]]:
    """Facts first, then attribution with the final case context (places are joined, not copied);
    and every place's parent."""
    contexts: dict[str, CaseContext] = {}
    facts: list[Fact] = []
    closures: list[Closure] = []
    openings: list[Opening] = []
    for event in events:
        if isinstance(event, CaseEvent):
            derived = from_case_event(event, contexts.get(event.case_id))
            contexts[event.case_id] = derived.context
            facts.extend(derived.facts)
            closures += [derived.closure] if derived.closure else []
            openings += [derived.opening] if derived.opening else []
        else:
            facts.extend(from_sla_event(event))  # type: ignore[arg-type]
    facts += repeat_complaints(closures, openings)
    attributed = [(key, f) for f in facts for key in attribute(f, contexts.get(f.case_id))]
    parents = {key: parent for key, _ in attributed for ctx in [contexts.get(_.case_id)] if ctx
               for parent in [parent_of(key[0], ctx)] if parent}
    return attributed, parents


def cards_of(ruler: Ruler, events: list[object], period: str) -> list[ScoreCard]:
    attributed, parents = derive_all(events)
    return compute_cards(ruler, tally([(k, f) for k, f in attributed if f.period == period], parents), period)


def test_a_worked_month_gives_the_published_cards() -> None:
    ruler = load_rulers(RULERS).by_version["2026.11-1"]
    events = list(a_month_of_cases("U1", 2031, 3))
    for period, expected in (("2031-03", EXPECTED_MONTH), ("2031-04", EXPECTED_NEXT_MONTH)):
        assert {suffix(c, "U1"): summary(c) for c in cards_of(ruler, events, period)} == expected


def test_the_order_of_events_across_topics_does_not_matter() -> None:
    events = list(a_month_of_cases("U1", 2031, 3))
    sla_first = sorted(events, key=lambda e: isinstance(e, CaseEvent))
    assert sorted(derive_all(events)[0], key=repr) == sorted(derive_all(sla_first)[0], key=repr)
