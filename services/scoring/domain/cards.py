"""`compute_cards`: a month's facts and a ruler in, ranked score cards out — pure and reproducible.

Each card lists every indicator with its raw value, numerator/denominator, weight and points. Points
and total are rounded once at the end (ROUND_HALF_UP, 2 places; the total is the rounded exact sum,
not the sum of rounded points). Ranks are competition ranks on the published total within an entity
type: equal totals share a rank and the next rank skips (1, 2, 2, 4), ties listed by entity id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from fractions import Fraction

from schemas.score import EntityType, IndicatorValue, ScoreCard
from services.scoring.domain.arithmetic import round_half_up
from services.scoring.domain.facts import EntityFacts
from services.scoring.domain.formulas import measure, points
from services.scoring.domain.ruler import Ruler

TYPE_ORDER = {t: i for i, t in enumerate(EntityType)}


def compute_cards(ruler: Ruler, facts: Iterable[EntityFacts], period: str, *, computed_at: datetime) -> list[ScoreCard]:
    """Cards for every entity in `facts`, ranked within each entity type."""
    unranked = [_card(ruler, entity, period, computed_at) for entity in facts]
    ranked: list[ScoreCard] = []
    for etype in EntityType:
        ranked.extend(rank([c for c in unranked if c.entity_type is etype]))
    return ranked


def _card(ruler: Ruler, entity: EntityFacts, period: str, computed_at: datetime) -> ScoreCard:
    values: list[IndicatorValue] = []
    total = Fraction(0)
    for indicator in ruler.entity_types[entity.entity_type]:
        measured = measure(indicator, entity)
        earned = points(indicator, measured)
        total += earned
        values.append(IndicatorValue(
            code=indicator.code, name=str(indicator.name), raw=round_half_up(measured.raw), weight=indicator.weight,
            points=round_half_up(earned), numerator=measured.numerator, denominator=measured.denominator,
        ))
    return ScoreCard(period=period, entity_type=entity.entity_type, entity_id=entity.entity_id,
                     ruler_version=ruler.version, indicators=tuple(values), total=round_half_up(total),
                     cases_counted=entity.cases_counted, computed_at=computed_at)


def rank(cards: list[ScoreCard]) -> list[ScoreCard]:
    """Competition ranking of one entity type's cards on their published totals."""
    ordered = sorted(cards, key=lambda c: (-c.total, c.entity_id))
    ranked: list[ScoreCard] = []
    for position, card in enumerate(ordered, start=1):
        tied = ranked and ranked[-1].total == card.total
        ranked.append(card.model_copy(update={"rank": ranked[-1].rank if tied else position}))
    return ranked


def content_hash(card: ScoreCard) -> str:
    """What a card says, without when it was computed: the same facts give the same hash."""
    body = card.model_dump_json(exclude={"computed_at"})
    return hashlib.sha256(body.encode()).hexdigest()


def card_event_id(key: str, revision: int, digest: str) -> str:
    """Stable for a given publication of a card: a retry after a crash reuses it (downstream dedupes on
    ce_id), while a card that changes back to an earlier content still gets a new id (revision)."""
    return "SC-" + hashlib.blake2b(f"{key}#{revision}#{digest}".encode(), digest_size=12).hexdigest()
