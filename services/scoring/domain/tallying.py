"""A poll batch's facts summed per entity: the running sums cards are computed from.

Pure: the handler derives the batch's facts (in order, per case), attributes each to the entities it
counts for with its case's context at the end of the batch, and adds the sums here to the stored ones
in the batch's transaction — a handful of statements per batch instead of several per event. The sums
are exactly what a GROUP BY over the ledger would give (`facts.tally` is their pure twin in tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from services.scoring.domain.facts import (
    CaseContext,
    EntityKey,
    Fact,
    counts_at_the_place,
    own_keys,
    parent_of,
    place_keys,
)

LINKS_PER_ENTITY = 16  # span links to the latest events that fed a card (a card sums many events)
TallyKey = tuple[str, str, str, str, str]  # period, entity type, entity id, fact, tag
EntityRow = tuple[str, str, str]  # period, entity type, entity id
Link = tuple[str, str, str]  # sortable UTC time ('' when unknown), event id, traceparent
Attributed = tuple[str, str, str | None]  # entity type name, entity id, its parent (grids and communities)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A fact as the ledger stores it: the event it came from (its id and position) and that event's trace."""

    event_id: str
    ordinal: int
    fact: Fact
    traceparent: str | None = None


@dataclass
class EntityDelta:
    parent_id: str | None = None
    as_of: datetime | None = None
    new_cases: int = 0  # cases counted for the entity (in the period) for the first time
    links: list[Link] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)  # event ids of retracted facts: their stored links go


def sort_time(at: datetime | None) -> str:
    """A fixed-width UTC text that sorts like the time (newest first when descending; unknown last)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at is not None else ""


def latest_links(links: Iterable[Link], limit: int = LINKS_PER_ENTITY) -> list[Link]:
    """Newest first, ties by event id: the same order whatever the batches were."""
    ordered = sorted(set(links), key=lambda link: link[1])
    ordered.sort(key=lambda link: link[0], reverse=True)
    return ordered[:limit]


@dataclass
class BatchTally:
    tallies: dict[TallyKey, tuple[int, Decimal]] = field(default_factory=dict)
    entities: dict[EntityRow, EntityDelta] = field(default_factory=dict)
    counted: dict[str, set[EntityRow]] = field(default_factory=dict)  # case id → rows it is new to here
    _places: dict[str, tuple[CaseContext, list[Attributed]]] = field(default_factory=dict, repr=False)

    def add(self, recorded: Recorded, context: CaseContext, only: Iterable[EntityKey] | None = None) -> None:
        """Count the fact for every entity it is attributed to (`only`: just these of them — a case
        located late brings its earlier facts to its new places). `context` is the case as it is at the
        end of the batch; it remembers where the case is counted already (a case counts once per entity
        and period, however many facts and batches)."""
        self._count(recorded, context, only, 1)

    def retract(self, recorded: Recorded, context: CaseContext) -> None:
        """Take back a stored fact that a correction replaces (a repeat complaint's nearer opening): out
        of the sums of every entity it counted for; the case stays counted there (its other facts)."""
        self._count(recorded, context, None, -1)

    def _count(self, recorded: Recorded, context: CaseContext, only: Iterable[EntityKey] | None, sign: int) -> None:
        fact = recorded.fact
        # what `attribute` gives, as (type name, id, parent); the case's places looked up once per case
        keys: list[Attributed] = [(etype.value, entity_id, None) for etype, entity_id in own_keys(fact)]
        if counts_at_the_place(fact):
            keys.extend(self._places_of(context))
        if only is not None:
            wanted = {(etype.value, entity_id) for etype, entity_id in only}
            keys = [k for k in keys if (k[0], k[1]) in wanted]
        link = ((sort_time(fact.at), recorded.event_id, recorded.traceparent)
                if recorded.traceparent and sign > 0 else None)  # a retraction feeds no card
        period, name, tag, value, at = fact.period, fact.name.value, fact.tag, fact.value, fact.at
        known, new = context.counted, self.counted.setdefault(fact.case_id, set())
        tallies, entities = self.tallies, self.entities
        for type_name, entity_id, parent in keys:
            row = (period, type_name, entity_id)
            key = (period, type_name, entity_id, name, tag)
            n, total = tallies.get(key, _NOTHING)
            tallies[key] = (n + sign, total + sign * value)
            delta = entities.get(row)
            if delta is None:
                delta = entities[row] = EntityDelta()
            if parent is not None and (delta.parent_id is None or parent < delta.parent_id):
                delta.parent_id = parent
            if at is not None and (delta.as_of is None or at > delta.as_of):
                delta.as_of = at
            if sign > 0 and row not in new and row not in known:
                new.add(row)
                delta.new_cases += 1
            if sign < 0:  # the retracted fact no longer feeds the card: neither does its event's link
                delta.dropped.add(recorded.event_id)
                delta.links = [x for x in delta.links if x[1] != recorded.event_id]
            if link is not None:
                links = delta.links
                links.append(link)
                if len(links) > 4 * LINKS_PER_ENTITY:
                    delta.links = latest_links(links)

    def _places_of(self, context: CaseContext) -> list[Attributed]:
        """The case's places (and the hotline) with each one's parent, as `_count` attributes them."""
        cached = self._places.get(context.case_id)
        if cached is None or cached[0] is not context:
            cached = self._places[context.case_id] = (context, [(etype.value, place, parent_of(etype, context))
                                                                for etype, place in place_keys(context)])
        return cached[1]

    def counted_now(self, context: CaseContext, left: Iterable[EntityKey] = ()) -> CaseContext:
        """The case as it is stored after the batch: counted where the batch counted it too, and no
        longer at the places it `left` (those are recomputed from the ledger; back there, it counts again)."""
        gone = {(etype.value, place) for etype, place in left}
        rows = context.counted | self.counted.get(context.case_id, set())
        return replace(context, counted=frozenset(r for r in rows if (r[1], r[2]) not in gone))


_NOTHING = (0, Decimal(0))


def merged(parts: Iterable[BatchTally]) -> BatchTally:
    """Sums over a log split BY CASE (every event of a case in one part), added up: what one `BatchTally`
    over the whole log gives — sums add (exact decimals), a case is new to an entity in one part only, the
    parent is the least named, `as_of` the latest, the links the latest of both."""
    out = BatchTally()
    for part in parts:
        add_to(out, part)
    return out


def add_to(out: BatchTally, part: BatchTally) -> None:
    """`merged`'s step: one part's sums added to those so far (a case is new to an entity in one part only)."""
    tallies = out.tallies
    for key, (n, total) in part.tallies.items():
        m, t = tallies.get(key, _NOTHING)
        tallies[key] = (m + n, t + total)
    for row, d in part.entities.items():
        mine = out.entities.get(row)
        if mine is None:
            out.entities[row] = EntityDelta(d.parent_id, d.as_of, d.new_cases, list(d.links), set(d.dropped))
            continue
        if d.parent_id is not None and (mine.parent_id is None or d.parent_id < mine.parent_id):
            mine.parent_id = d.parent_id
        if d.as_of is not None and (mine.as_of is None or d.as_of > mine.as_of):
            mine.as_of = d.as_of
        mine.new_cases += d.new_cases
        mine.links = latest_links(mine.links + d.links)
        mine.dropped |= d.dropped
    for case_id, rows in part.counted.items():
        out.counted.setdefault(case_id, set()).update(rows)


def new_places(before: CaseContext | None, after: CaseContext) -> list[EntityKey]:
    """Places (and the hotline) a case counts for now but did not at the start of the batch."""
    had = set(place_keys(before))
    return [k for k in place_keys(after) if k not in had]


def left_places(before: CaseContext | None, after: CaseContext) -> list[EntityKey]:
    """Places a case counted for at the start of the batch but no longer does (it moved)."""
    now = set(place_keys(after))
    return [k for k in place_keys(before) if k not in now]
