"""Facts: the countable observations the ruler's formulas are written over.

A fact is derived from exactly one event (case.events.v1 or sla.events.v1) and is stored once per
event, so the ledger of facts is as exact as the event log. Who a fact counts for is decided here for
departments (the owner when it happened) and grid workers (the reporter or verifier); communities and
streets get every fact of the cases located in them (joined on the case when cards are computed), so
an SLA event that arrives before its case's `created` still lands in the right community.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from schemas.score import EntityType

LOCATIONAL_OWNERS = frozenset({"GRID", "COMMUNITY", "STREET"})
"""Owners resolved from the grid; their outcomes count for the place, not for a department."""
CENTRE = "CENTER"
"""The command centre: scored on its own card (直接办结), never ranked among departments."""
HOTLINE_ID = "12345"
"""The one hotline entity: every case that came in by the 12345 channel."""
HOTLINE_CHANNEL = "hotline"


class FactName(StrEnum):
    """The closed set of facts a ruler may name."""

    REPORTED = "reported"  # 上报: a grid worker's report became a case (tag: handling level)
    REPORT_INVALID = "report_invalid"  # the report was rejected or merged as a duplicate
    ON_THE_SPOT = "on_the_spot"  # 自行处置: handled and closed by the worker on the spot
    VERIFY_SECONDS = "verify_seconds"  # 核查: seconds from resolved to the grid's verification
    RECEIVED = "received"  # dispatched (or escalated) to an owner who must accept it
    ACCEPT_MET = "accept_met"  # 签收 within the accept limit (sla met, stage accept)
    ACCEPT_OVERDUE = "accept_overdue"
    HANDLE_MET = "handle_met"  # 办结 within the handle limit (sla met, stage handle)
    HANDLE_OVERDUE = "handle_overdue"
    RETURNED = "returned"  # 退单
    RESOLVED = "resolved"  # handled and reported back (not on the spot)
    REOPENED = "reopened"  # 返工: verification failed or the citizen was not satisfied
    REPEAT_REPORTED = "repeat_reported"  # 重复件: the same problem reported again while open
    RATED = "rated"  # 回访 satisfaction 1..5 (value)
    ESCALATED = "escalated"  # 提级: the level was raised
    # ruler 2026.12-1 and later (assessments' definitions):
    RETURN_JUSTIFIED = "return_justified"  # 仲裁 ruled a 退单 justified (in the month of the return)
    CLOSED = "closed"  # 结案 of a case the department handled (the month it closed)
    REPEAT_COMPLAINT = "repeat_complaint"  # 重复投诉: same item, same grid, after a closure (tag: whole days)
    RATED_RESOLVED = "rated_resolved"  # the citizen rated the case resolved (satisfaction ≥ 3)
    RATED_SATISFIED = "rated_satisfied"  # 满意 or 基本满意 (satisfaction ≥ 4)
    CASE_OPENED = "case_opened"  # a case was created (the month it was reported)
    CASE_CLOSED = "case_closed"  # that case was closed (counted in the month it was reported)
    CASE_ESCALATED = "case_escalated"  # that case was escalated at least once (month it was reported)
    ANSWERED = "answered"  # 直接办结: the centre answered it itself (month reported; the centre's card)
    ASSISTED = "assisted"  # 协办: an assisting department was named on a dispatch (its own card)


@dataclass(frozen=True, slots=True)
class Fact:
    """One observation. `value` is 1 for countable facts, the measure for `rated`/`verify_seconds`."""

    name: FactName
    case_id: str
    period: str
    value: Decimal = Decimal(1)
    tag: str = ""
    department: str | None = None
    worker: str | None = None
    at: datetime | None = None  # when the event that established it happened (a card's `computed_at`)


@dataclass
class CaseContext:
    """What scoring remembers about a case to attribute its later facts (one row per case)."""

    case_id: str
    reported_period: str | None = None
    reporter: str | None = None  # the grid worker who reported it, when one did
    level: str | None = None  # handling level at creation (difficulty)
    grid_id: str | None = None
    community_id: str | None = None
    street_id: str | None = None
    resolved_at: datetime | None = None  # last `resolved`, for verification timeliness
    channel: str | None = None  # where it came in (the hotline's card counts `hotline` cases)
    item_code: str | None = None  # responsibility item, for repeat complaints
    handled_by: str | None = None  # the department that last resolved it (repeat complaints count for it)
    escalated: bool = False  # escalated at least once (the place's escalation rate counts cases)
    counted: frozenset[tuple[str, str, str]] = frozenset()  # (period, entity type, entity id) it is counted for


EntityKey = tuple[EntityType, str]


@dataclass(frozen=True)
class Tally:
    """Facts of one name (and tag) for one entity in one period, summed: what formulas read."""

    count: int
    total: Decimal


@dataclass
class EntityFacts:
    """Everything one entity did in one period, as the card computation needs it."""

    entity_type: EntityType
    entity_id: str
    cases_counted: int = 0
    parent_id: str | None = None  # grid → community → street: ranks are within the parent
    as_of: datetime | None = None  # the latest event time among the facts: the card's `computed_at`
    tallies: dict[tuple[FactName, str], Tally] = field(default_factory=dict)

    def _indexed(self) -> tuple[int, dict[FactName, list[tuple[str, Tally]]], dict[FactName, int]]:
        """(tag, tally) and the count per fact name, built once per set of tallies (formulas ask many times)."""
        index = self.__dict__.get("_index")
        if index is None or index[0] != len(self.tallies):
            named: dict[FactName, list[tuple[str, Tally]]] = {}
            counts: dict[FactName, int] = {}
            for (n, tag), t in self.tallies.items():
                named.setdefault(n, []).append((tag, t))
                counts[n] = counts.get(n, 0) + t.count
            index = self.__dict__["_index"] = (len(self.tallies), named, counts)
        found: tuple[int, dict[FactName, list[tuple[str, Tally]]], dict[FactName, int]] = index
        return found

    def _named(self, name: FactName) -> list[tuple[str, Tally]]:
        return self._indexed()[1].get(name, [])

    def count(self, name: FactName, within: int | None = None) -> int:
        """Facts of a name; `within`: only those tagged with fewer elapsed days (untagged ones count)."""
        if within is None:
            return self._indexed()[2].get(name, 0)
        return sum(t.count for tag, t in self._named(name) if not tag.isdigit() or int(tag) < within)

    def total(self, name: FactName) -> Decimal:
        return sum((t.total for _, t in self._named(name)), Decimal(0))

    def facts_of(self, names: frozenset[FactName]) -> int:
        """How many of the entity's facts have one of these names (a card's revision input)."""
        return sum(t.count for (n, _), t in self.tallies.items() if n in names)

    def by_tag(self, name: FactName) -> dict[str, int]:
        return {tag: t.count for tag, t in self._named(name)}


def is_centre(actor: str | None) -> bool:
    return bool(actor) and (actor == CENTRE or str(actor).startswith(CENTRE + ":"))


def is_department(owner: str | None) -> bool:
    """Any owner that is not a place nor the centre is scored as a department — unknown codes
    included, by design."""
    return bool(owner) and owner not in LOCATIONAL_OWNERS and not is_centre(owner)


def fact_entity(fact: Fact) -> EntityKey | None:
    """Where the fact's own attribution points: the centre, an assisting department, a department."""
    if not fact.department:
        return None
    if fact.department == CENTRE:
        return (EntityType.CENTER, CENTRE)
    if fact.name is FactName.ASSISTED:
        return (EntityType.ASSISTING_DEPARTMENT, fact.department)
    return (EntityType.DEPARTMENT, fact.department)


def attribute(fact: Fact, context: CaseContext | None) -> list[EntityKey]:
    """The entities a fact counts for (ingestion uses this to mark cards dirty)."""
    keys = own_keys(fact)
    if counts_at_the_place(fact):
        keys.extend(place_keys(context))
    return keys


def own_keys(fact: Fact) -> list[EntityKey]:
    """The entities the fact names itself: its department (or the centre, or an assisting one), its worker."""
    keys: list[EntityKey] = []
    own = fact_entity(fact)
    if own is not None:
        keys.append(own)
    if fact.worker:
        keys.append((EntityType.GRID_WORKER, fact.worker))
    return keys


def counts_at_the_place(fact: Fact) -> bool:
    """The centre's and assistance facts are not the place's (nor the hotline's)."""
    return not fact.department or (fact.department != CENTRE and fact.name is not FactName.ASSISTED)


def place_keys(context: CaseContext | None) -> list[EntityKey]:
    """The places (and the hotline) a case's facts count for, once its place and channel are known."""
    if context is None:
        return []
    keys = [(etype, place) for etype, place in ((EntityType.GRID, context.grid_id),
                                                (EntityType.COMMUNITY, context.community_id),
                                                (EntityType.STREET, context.street_id)) if place]
    if context.channel == HOTLINE_CHANNEL:
        keys.append((EntityType.HOTLINE, HOTLINE_ID))
    return keys


def parent_of(etype: EntityType, context: CaseContext) -> str | None:
    """Grids rank within their community, communities within their street."""
    if etype is EntityType.GRID:
        return context.community_id
    return context.street_id if etype is EntityType.COMMUNITY else None


def tally(facts: list[tuple[EntityKey, Fact]], parents: dict[EntityKey, str] | None = None) -> list[EntityFacts]:
    """Sum attributed facts per entity — the pure twin of the repository's GROUP BY (used in tests)."""
    parents = parents or {}
    entities: dict[EntityKey, EntityFacts] = {}
    cases: dict[EntityKey, set[str]] = {}
    for key, fact in facts:
        entity = entities.setdefault(key, EntityFacts(key[0], key[1], parent_id=parents.get(key)))
        if fact.at is not None and (entity.as_of is None or fact.at > entity.as_of):
            entity.as_of = fact.at
        cases.setdefault(key, set()).add(fact.case_id)
        slot = (fact.name, fact.tag)
        old = entity.tallies.get(slot, Tally(0, Decimal(0)))
        entity.tallies[slot] = Tally(old.count + 1, old.total + fact.value)
    for key, entity in entities.items():
        entity.cases_counted = len(cases[key])
    return list(entities.values())
