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
    tallies: dict[tuple[FactName, str], Tally] = field(default_factory=dict)

    def count(self, name: FactName) -> int:
        return sum(t.count for (n, _), t in self.tallies.items() if n is name)

    def total(self, name: FactName) -> Decimal:
        return sum((t.total for (n, _), t in self.tallies.items() if n is name), Decimal(0))

    def by_tag(self, name: FactName) -> dict[str, int]:
        return {tag: t.count for (n, tag), t in self.tallies.items() if n is name}


def is_department(owner: str | None) -> bool:
    """Any owner that is not a place is scored as a department — unknown codes included, by design."""
    return bool(owner) and owner not in LOCATIONAL_OWNERS


def attribute(fact: Fact, context: CaseContext | None) -> list[EntityKey]:
    """The entities a fact counts for (ingestion uses this to mark cards dirty)."""
    keys: list[EntityKey] = []
    if fact.department:
        keys.append((EntityType.DEPARTMENT, fact.department))
    if fact.worker:
        keys.append((EntityType.GRID_WORKER, fact.worker))
    if context is not None:
        if context.community_id:
            keys.append((EntityType.COMMUNITY, context.community_id))
        if context.street_id:
            keys.append((EntityType.STREET, context.street_id))
    return keys


def tally(facts: list[tuple[EntityKey, Fact]]) -> list[EntityFacts]:
    """Sum attributed facts per entity — the pure twin of the repository's GROUP BY (used in tests)."""
    entities: dict[EntityKey, EntityFacts] = {}
    cases: dict[EntityKey, set[str]] = {}
    for key, fact in facts:
        entity = entities.setdefault(key, EntityFacts(key[0], key[1]))
        cases.setdefault(key, set()).add(fact.case_id)
        slot = (fact.name, fact.tag)
        old = entity.tallies.get(slot, Tally(0, Decimal(0)))
        entity.tallies[slot] = Tally(old.count + 1, old.total + fact.value)
    for key, entity in entities.items():
        entity.cases_counted = len(cases[key])
    return list(entities.values())
