"""`compute_cards`: a month's facts and a ruler in, ranked score cards out — pure and reproducible.

Each card lists every indicator with its raw value, numerator/denominator, weight and points. Points
and total are rounded once at the end (ROUND_HALF_UP, 2 places; the total is the rounded exact sum,
not the sum of rounded points). Ranks are competition ranks on the published total within an entity
type and parent: equal totals share a rank and the next rank skips (1, 2, 2, 4), ties listed by entity id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from schemas.score import EntityType, IndicatorValue, ScoreCard
from services.scoring.domain.arithmetic import round_half_up
from services.scoring.domain.facts import EntityFacts
from services.scoring.domain.formulas import measure, points
from services.scoring.domain.periods import LOCAL_TZ
from services.scoring.domain.ruler import Ruler

TYPE_ORDER = {t: i for i, t in enumerate(EntityType)}


def compute_cards(ruler: Ruler, facts: Iterable[EntityFacts], period: str) -> list[ScoreCard]:
    """Cards for every entity in `facts` whose type the ruler scores, ranked within each type and parent.
    Pure: the same ruler, period and facts give the same cards, byte for byte."""
    unranked = [score_card(ruler, entity, period) for entity in facts if entity.entity_type in ruler.entity_types]
    ranked: list[ScoreCard] = []
    for etype in EntityType:
        ranked.extend(rank([c for c in unranked if c.entity_type is etype]))
    return ranked


def period_start(period: str) -> datetime:
    year, month = (int(p) for p in period.split("-"))
    return datetime(year, month, 1, tzinfo=LOCAL_TZ)


def score_card(ruler: Ruler, entity: EntityFacts, period: str) -> ScoreCard:
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
    as_of = (entity.as_of or period_start(period)).astimezone(UTC)
    return ScoreCard(period=period, entity_type=entity.entity_type, entity_id=entity.entity_id,
                     ruler_version=ruler.version, indicators=tuple(values), total=round_half_up(total),
                     cases_counted=entity.cases_counted, computed_at=as_of, parent_id=entity.parent_id)


def rank(cards: list[ScoreCard]) -> list[ScoreCard]:
    """Competition ranking of one entity type's cards on their published totals, within each parent
    (grids in their community, communities in their street; the others have none)."""
    positions = ranks({c.entity_id: (c.parent_id, c.total) for c in cards})
    by_id = {c.entity_id: c for c in cards}
    return [by_id[entity_id].model_copy(update={"rank": position}) for entity_id, position in positions.items()]


def ranks(standings: dict[str, tuple[str | None, Decimal]]) -> dict[str, int]:
    """Entity id → competition rank (1, 2, 2, 4) on the total within its parent; in parent order, then
    rank order (ties by entity id). Re-ranking needs only the totals, not the cards."""
    by_parent: dict[str, list[tuple[Decimal, str]]] = {}
    for entity_id, (parent, total) in standings.items():
        by_parent.setdefault(parent or "", []).append((-total, entity_id))
    found: dict[str, int] = {}
    for parent in sorted(by_parent):
        previous: tuple[Decimal, int] | None = None
        for position, (negative, entity_id) in enumerate(sorted(by_parent[parent]), start=1):
            shared = previous is not None and previous[0] == negative
            found[entity_id] = previous[1] if shared and previous is not None else position
            previous = (negative, found[entity_id])
    return found


def content_hash(card: ScoreCard) -> str:
    """What a card says: the same facts give the same hash (and the same bytes on the topic)."""
    return hashlib.sha256(card.model_dump_json().encode()).hexdigest()


def card_event_id(key: str, digest: str, own_facts: int) -> str:
    """A pure function of the card and the entity's own facts, so a replay into an empty database gives
    the same ce_id (and a retry after a crash reuses it). Facts are only ever added, so a card whose
    own facts changed gets a new id even when its content returns to an earlier one (a late arbitration
    undoing a return). Only a card that returns to an earlier content through other entities alone (its
    rank moving back) reuses its earlier id — a consumer that upserts the compacted topic by key is
    unaffected; one that drops repeated ce_ids must key on (ce_id, offset) for score cards."""
    return "SC-" + hashlib.blake2b(f"{key}#{own_facts}#{digest}".encode(), digest_size=12).hexdigest()


def unused_event_id(event_id: str, revision: int, taken: set[str]) -> str:
    """The card's ce_id, unless this key already published it (a card back to an earlier content and
    the same facts through other entities' changes alone): then one salted by the revision, so the
    outbox (unique event ids) and consumers that de-duplicate on ce_id never swallow the new revision.
    Only that rare card's id then differs from a replay's."""
    return event_id if event_id not in taken else f"{event_id}-r{revision}"
