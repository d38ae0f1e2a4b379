"""compute_cards: every indicator shown, exact totals rounded once, competition ranks with ties."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from schemas.score import EntityType
from services.scoring.domain.cards import card_event_id, compute_cards, content_hash, unused_event_id
from services.scoring.domain.facts import EntityFacts, FactName, Tally
from services.scoring.domain.ruler import Ruler
from services.scoring.domain.ruler_files import load_rulers

RULERS = Path(__file__).resolve().parents[3] / "services" / "scoring" / "data" / "ruler"
AT = datetime(2026, 12, 1, tzinfo=UTC)


def department(entity_id: str, cases: int = 1, **counts: int | tuple[int, str]) -> EntityFacts:
    entity = EntityFacts(EntityType.DEPARTMENT, entity_id, cases_counted=cases)
    for name, spec in counts.items():
        n, total = spec if isinstance(spec, tuple) else (spec, str(spec))
        entity.tallies[(FactName(name), "")] = Tally(n, Decimal(total))
    return entity


def two_thirds_ruler() -> Ruler:
    share = {"kind": "ratio", "numerator": ["accept_met"], "denominator": ["accept_met", "accept_overdue"]}
    indicators = [
        {"code": code, "name": {"zh": zh, "en": code}, "formula": share, "direction": "higher",
         "normalise": {"worst": 0, "best": 100}, "weight": 50}
        for code, zh in (("first", "甲"), ("second", "乙"))
    ]
    return Ruler.model_validate({"version": "2026.11-9", "effective_from": "2026-01", "title": {"zh": "测", "en": "t"},
                                 "entity_types": {"department": indicators}})


def test_a_department_card_explains_every_indicator() -> None:
    ruler = load_rulers(RULERS).by_version["2026.11-1"]
    facts = department("URBAN_MGMT", cases=10, accept_met=9, accept_overdue=1, handle_met=3, received=10,
                       returned=1, resolved=3, reopened=1, rated=(3, "13"))
    [card] = compute_cards(ruler, [facts], "2026-11")
    shown = {i.code: (i.raw, i.numerator, i.denominator, i.weight, i.points) for i in card.indicators}
    assert shown == {
        "timely_acceptance": (Decimal("90.00"), 9, 10, Decimal(20), Decimal("10.00")),  # halfway from 80 % to 100 %
        "closure_on_time": (Decimal("100.00"), 3, 3, Decimal(25), Decimal("25.00")),
        "return_rate": (Decimal("10.00"), 1, 10, Decimal(10), Decimal("5.00")),  # lower is better: halfway to 20 %
        "rework_rate": (Decimal("33.33"), 1, 3, Decimal(15), Decimal("0.00")),  # beyond the worst: no points
        "repeat_rate": (Decimal("0.00"), 0, 10, Decimal(10), Decimal("10.00")),
        "satisfaction": (Decimal("4.33"), 13, 3, Decimal(20), Decimal("16.67")),  # (13/3 − 1) / 4 of 20
    }
    assert card.total == Decimal("66.67")
    assert (card.rank, card.cases_counted, card.ruler_version) == (1, 10, ruler.version)
    assert card.key == "2026-11:department:URBAN_MGMT@2026.11-1"  # every ruler version has its own cards
    assert card.indicators[0].name == "签收及时率 accepted within the accept limit"


def test_total_is_the_exact_sum_rounded_once_not_the_sum_of_rounded_points() -> None:
    [card] = compute_cards(two_thirds_ruler(), [department("D1", accept_met=1, accept_overdue=2)], "2026-11")
    assert [i.points for i in card.indicators] == [Decimal("16.67"), Decimal("16.67")]
    assert card.total == Decimal("33.33")  # 2 × 16.666…, not 16.67 + 16.67


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    entities = [department("D_LOW", accept_met=1, accept_overdue=3), department("D_TIE_B", accept_met=1,
                accept_overdue=1), department("D_TOP", accept_met=1), department("D_TIE_A", accept_met=2,
                accept_overdue=2)]
    cards = compute_cards(two_thirds_ruler(), entities, "2026-11")
    assert [(c.entity_id, c.total, c.rank) for c in cards] == [
        ("D_TOP", Decimal("100.00"), 1),
        ("D_TIE_A", Decimal("50.00"), 2),
        ("D_TIE_B", Decimal("50.00"), 2),
        ("D_LOW", Decimal("25.00"), 4),
    ]


def test_ranks_are_within_an_entity_type() -> None:
    ruler = load_rulers(RULERS).current
    worker = EntityFacts(EntityType.GRID_WORKER, "W1", 1, tallies={(FactName.REPORTED, "grid"): Tally(1, Decimal(1))})
    cards = compute_cards(ruler, [department("D1", accept_met=1), worker], "2026-11")
    assert [(c.entity_type, c.rank) for c in cards] == [(EntityType.GRID_WORKER, 1), (EntityType.DEPARTMENT, 1)]


def test_same_facts_same_card_byte_for_byte_and_its_time_is_the_latest_fact() -> None:
    ruler = load_rulers(RULERS).current
    facts = [department("D1", accept_met=2, accept_overdue=1, rated=(2, "9")), department("D2", rated=1)]
    facts[0].as_of = datetime(2026, 11, 20, 1, 2, tzinfo=UTC)
    first = compute_cards(ruler, facts, "2026-11")
    later = compute_cards(ruler, list(reversed(facts)), "2026-11")
    assert [c.model_dump_json() for c in first] == [c.model_dump_json() for c in later]
    times = {c.entity_id: c.computed_at for c in first}
    assert times["D1"] == datetime(2026, 11, 20, 1, 2, tzinfo=UTC)  # the latest fact's time: no wall clock
    assert times["D2"] == datetime(2026, 10, 31, 16, tzinfo=UTC)  # no fact time known: the month's start
    assert content_hash(first[0]) != content_hash(first[0].model_copy(update={"rank": 2}))


def test_event_id_is_a_function_of_the_facts_and_new_when_a_card_changes_back() -> None:
    key, digest = "2026-11:department:D1@2026.12-1", "abc"
    assert card_event_id(key, digest, 41) == card_event_id(key, digest, 41)  # a replay, a retry: the same id
    assert card_event_id(key, digest, 41) != card_event_id(key, digest, 44)  # A → B → A: its facts were added


def test_a_card_back_to_an_already_published_id_gets_a_salted_one_so_it_is_never_swallowed() -> None:
    first = card_event_id("2026-11:department:D1@2026.12-1", "abc", 41)
    assert unused_event_id(first, 3, set()) == first  # the replay-stable id whenever it is new
    assert unused_event_id(first, 3, {first}) == f"{first}-r3"
