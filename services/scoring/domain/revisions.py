"""Which cards of a (period, entity type) to publish after some of its entities' facts changed — pure.

Only the changed (dirty) entities' cards are computed from their running sums; every other entity of
the type keeps its stored card and is only re-ranked from the stored totals (ranks depend on all of
them), and republished when its rank moved. A card whose content hash and facts read are those of the
last published one is not published again (same bytes → no new revision).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from schemas.score import EntityType, ScoreCard, card_key
from services.scoring.domain.cards import card_event_id, ranks, score_card
from services.scoring.domain.facts import EntityFacts
from services.scoring.domain.ruler import Ruler


@dataclass(frozen=True)
class Stored:
    """What the last published card of a key says, as far as re-ranking it needs."""

    key: str
    entity_id: str
    ruler_version: str
    event_id: str
    revision: int
    rank: int | None
    total: Decimal
    parent_id: str | None
    content_hash: str
    facts_read: int | None  # None: stored before running sums existed (the whole type is recomputed)


@dataclass(frozen=True)
class Revision:
    """A card to publish: its JSON (the record's value, byte for byte), content hash, ce_id and revision."""

    card: ScoreCard
    body: str
    digest: str
    event_id: str
    revision: int
    facts_read: int


@dataclass
class Plan:
    """One ruler version's cards of the group: those computed, and those only re-ranked (their stored
    body is needed), and the keys it no longer scores."""

    computed: list[Revision] = field(default_factory=list)
    rerank: dict[str, tuple[int, Stored]] = field(default_factory=dict)
    gone: list[Stored] = field(default_factory=list)  # keys no longer scored: tombstoned

    def revisions(self, bodies: dict[str, str]) -> list[Revision]:
        moved = (revision(ScoreCard.model_validate_json(bodies[key]).model_copy(update={"rank": position}),
                          old.facts_read or 0, old) for key, (position, old) in sorted(self.rerank.items()))
        return [*self.computed, *(r for r in moved if r is not None)]


def revision(card: ScoreCard, facts_read: int, old: Stored | None) -> Revision | None:
    """The card as a new revision of its key, or None when it says what the last published one said
    and reads the same facts."""
    body = card.model_dump_json()
    digest = hashlib.sha256(body.encode()).hexdigest()
    event_id = card_event_id(card.key, digest, facts_read)
    if old is not None and ((old.content_hash, old.facts_read) == (digest, facts_read) or old.event_id == event_id):
        return None
    return Revision(card, body, digest, event_id, (old.revision if old else 0) + 1, facts_read)


def plan_revisions(ruler: Ruler, entity_type: EntityType, period: str, facts: Iterable[EntityFacts],
                   stored: dict[str, Stored], scope: set[str] | None) -> Plan:
    """`facts`: the sums of the entities in `scope` (the dirty ones; every entity when None) that still
    have facts. An entity in scope without facts any more (its only case moved away) loses its card."""
    read = ruler.facts_read(entity_type)
    computed = {e.entity_id: (score_card(ruler, e, period), e.facts_of(read)) for e in facts}
    mine = [s for s in stored.values() if s.ruler_version == ruler.version]
    plan = Plan(gone=sorted((s for s in mine if (scope is None or s.entity_id in scope)
                             and s.entity_id not in computed), key=lambda s: s.key))
    standings: dict[str, tuple[str | None, Decimal]] = {
        s.entity_id: (s.parent_id, s.total) for s in mine if scope is not None and s.entity_id not in scope}
    standings.update({entity_id: (card.parent_id, card.total) for entity_id, (card, _) in computed.items()})
    for entity_id, position in ranks(standings).items():
        key = card_key(period, entity_type, entity_id, ruler.version)
        old = stored.get(key)
        if entity_id in computed:
            card, facts_read = computed[entity_id]
            fresh = revision(card.model_copy(update={"rank": position}), facts_read, old)
            if fresh is not None:
                plan.computed.append(fresh)
        elif old is not None and old.rank != position:
            plan.rerank[key] = (position, old)
    return plan
