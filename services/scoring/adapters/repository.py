"""Scoring's storage: plain parameterised SQL over the `scoring` schema (asyncpg)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from schemas.score import EntityType, ScoreCard
from services.scoring.domain.facts import HOTLINE_ID, CaseContext, EntityFacts, Fact, FactName, Tally
from services.scoring.domain.repeats import WINDOW, Closure, Opening

DirtyKey = tuple[str, str, str]  # period, entity_type, entity_id
WHOLE_TYPE = "*"

_JOINED = "facts f JOIN cases c ON c.case_id = f.case_id"
_NOT_CENTRE = "(f.department IS NULL OR (f.department <> 'CENTER' AND f.fact <> 'assisted'))"


@dataclass(frozen=True)
class _Source:
    """Where an entity type's id (and its parent) comes from: departments and workers are on the fact,
    places and the hotline on the case; `only` filters the facts that count for the type."""

    entity: str
    source: str = "facts f"
    only: str = "true"
    parent: str = "NULL"


_ENTITY_SOURCE: dict[EntityType, _Source] = {
    EntityType.DEPARTMENT: _Source("f.department", only="f.department <> 'CENTER' AND f.fact <> 'assisted'"),
    EntityType.ASSISTING_DEPARTMENT: _Source("f.department", only="f.fact = 'assisted'"),
    EntityType.CENTER: _Source("f.department", only="f.department = 'CENTER'"),
    EntityType.GRID_WORKER: _Source("f.worker"),
    EntityType.GRID: _Source("c.grid_id", _JOINED, _NOT_CENTRE, parent="c.community_id"),
    EntityType.COMMUNITY: _Source("c.community_id", _JOINED, _NOT_CENTRE, parent="c.street_id"),
    EntityType.STREET: _Source("c.street_id", _JOINED, _NOT_CENTRE),
    EntityType.HOTLINE: _Source(f"'{HOTLINE_ID}'::text", _JOINED, f"{_NOT_CENTRE} AND c.channel = 'hotline'"),
}


async def load_case(conn: asyncpg.Connection, case_id: str, *, lock: bool = True) -> CaseContext | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1" + (" FOR UPDATE" if lock else ""), case_id)
    if row is None:
        return None
    return CaseContext(case_id=row["case_id"], reported_period=row["reported_period"], reporter=row["reporter"],
                       level=row["level"], grid_id=row["grid_id"], community_id=row["community_id"],
                       street_id=row["street_id"], resolved_at=row["resolved_at"], channel=row["channel"],
                       item_code=row["item_code"], handled_by=row["handled_by"], escalated=row["escalated"])


async def ensure_case(conn: asyncpg.Connection, case_id: str) -> None:
    await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)


async def save_case(conn: asyncpg.Connection, c: CaseContext) -> None:
    await conn.execute(
        "INSERT INTO cases (case_id, reported_period, reporter, level, grid_id, community_id, street_id, resolved_at, "
        "channel, item_code, handled_by, escalated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (case_id) DO UPDATE SET "
        "reported_period = EXCLUDED.reported_period, reporter = EXCLUDED.reporter, level = EXCLUDED.level, "
        "grid_id = EXCLUDED.grid_id, community_id = EXCLUDED.community_id, street_id = EXCLUDED.street_id, "
        "resolved_at = EXCLUDED.resolved_at, channel = EXCLUDED.channel, item_code = EXCLUDED.item_code, "
        "handled_by = EXCLUDED.handled_by, escalated = EXCLUDED.escalated",
        c.case_id, c.reported_period, c.reporter, c.level, c.grid_id, c.community_id, c.street_id, c.resolved_at,
        c.channel, c.item_code, c.handled_by, c.escalated,
    )


async def add_facts(conn: asyncpg.Connection, event_id: str, facts: Sequence[Fact],
                    traceparent: str | None = None) -> None:
    await conn.executemany(
        "INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, worker, at, traceparent) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        [(event_id, i, f.case_id, f.period, f.name.value, f.tag, f.value, f.department, f.worker, f.at, traceparent)
         for i, f in enumerate(facts)],
    )


async def lock_place(conn: asyncpg.Connection, item_code: str, grid_id: str) -> None:
    """Serialise the two halves of repeat complaints per (item, grid) until commit: whichever commits
    second sees the other."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('scoring.place:' || $1 || ':' || $2))",
                       item_code, grid_id)


async def save_opening(conn: asyncpg.Connection, o: Opening) -> list[Closure]:
    """Store a new case and return the closures it may repeat (same item and grid, within the window)."""
    await conn.execute("INSERT INTO openings (case_id, item_code, grid_id, opened_at) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT DO NOTHING", o.case_id, o.item_code, o.grid_id, o.opened_at)
    rows = await conn.fetch("SELECT * FROM closures WHERE item_code = $1 AND grid_id = $2 AND closed_at < $3 "
                            "AND closed_at >= $4", o.item_code, o.grid_id, o.opened_at, o.opened_at - WINDOW)
    return [Closure(r["case_id"], r["item_code"], r["grid_id"], r["closed_at"], r["period"], r["department"])
            for r in rows]


async def save_closure(conn: asyncpg.Connection, c: Closure) -> list[Opening]:
    """Store a closure and return the cases opened after it that may repeat it."""
    await conn.execute("INSERT INTO closures (case_id, item_code, grid_id, closed_at, period, department) "
                       "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                       c.case_id, c.item_code, c.grid_id, c.closed_at, c.period, c.department)
    rows = await conn.fetch("SELECT * FROM openings WHERE item_code = $1 AND grid_id = $2 AND opened_at > $3 "
                            "AND opened_at <= $4", c.item_code, c.grid_id, c.closed_at, c.closed_at + WINDOW)
    return [Opening(r["case_id"], r["item_code"], r["grid_id"], r["opened_at"]) for r in rows]


async def case_periods(conn: asyncpg.Connection, case_id: str) -> list[str]:
    rows = await conn.fetch("SELECT DISTINCT period FROM facts WHERE case_id = $1", case_id)
    return [r["period"] for r in rows]


async def mark_dirty(conn: asyncpg.Connection, keys: Iterable[DirtyKey]) -> None:
    """A new mark (sequence value) per key, appended: the publisher clears only marks it has seen."""
    await conn.executemany("INSERT INTO dirty (period, entity_type, entity_id) VALUES ($1, $2, $3)",
                           sorted(set(keys)))


async def dirty_groups(conn: asyncpg.Connection) -> list[tuple[str, EntityType]]:
    rows = await conn.fetch("SELECT DISTINCT period, entity_type FROM dirty ORDER BY 1, 2")
    return [(r["period"], EntityType(r["entity_type"])) for r in rows]


async def lock_group(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> None:
    """Serialise recomputation of one (period, entity type) across instances until commit."""
    lock = int.from_bytes(hashlib.sha256(f"scoring:{period}:{entity_type.value}".encode()).digest()[:8], "big",
                          signed=True)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)


async def highest_mark(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> int | None:
    value = await conn.fetchval("SELECT max(mark) FROM dirty WHERE period = $1 AND entity_type = $2",
                                period, entity_type.value)
    return int(value) if value is not None else None


async def clear_dirty(conn: asyncpg.Connection, period: str, entity_type: EntityType, upto: int) -> None:
    await conn.execute("DELETE FROM dirty WHERE period = $1 AND entity_type = $2 AND mark <= $3",
                       period, entity_type.value, upto)


async def period_facts(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> list[EntityFacts]:
    """The month's facts of one entity type, summed per entity, fact and tag (exact numeric sums), with
    each entity's parent place and the time of its latest fact."""
    s = _ENTITY_SOURCE[entity_type]
    where = f"f.period = $1 AND {s.entity} IS NOT NULL AND {s.only}"
    tallies = await conn.fetch(f"SELECT {s.entity} AS entity_id, f.fact, f.tag, count(*) AS n, "
                               f"sum(f.value) AS total FROM {s.source} WHERE {where} GROUP BY 1, 2, 3", period)
    cases = await conn.fetch(f"SELECT {s.entity} AS entity_id, count(DISTINCT f.case_id) AS n, max(f.at) AS as_of, "
                             f"min({s.parent}) AS parent FROM {s.source} WHERE {where} GROUP BY 1",
                             period) if tallies else []
    entities = {r["entity_id"]: EntityFacts(entity_type, r["entity_id"], cases_counted=r["n"], parent_id=r["parent"],
                                            as_of=r["as_of"]) for r in cases}
    for r in tallies:
        entities[r["entity_id"]].tallies[(FactName(r["fact"]), r["tag"])] = Tally(r["n"], r["total"])
    return list(entities.values())


async def feeding_traces(conn: asyncpg.Connection, period: str, entity_type: EntityType,
                         per_entity: int) -> dict[str, list[str]]:
    """Entity id → the trace parents of the latest events that fed its card (span links)."""
    s = _ENTITY_SOURCE[entity_type]
    rows = await conn.fetch(
        f"SELECT entity_id, traceparent FROM (SELECT {s.entity} AS entity_id, f.traceparent, row_number() OVER "
        f"(PARTITION BY {s.entity} ORDER BY f.at DESC NULLS LAST, f.event_id) AS n FROM {s.source} WHERE f.period = $1 "
        f"AND {s.entity} IS NOT NULL AND {s.only} AND f.traceparent IS NOT NULL) t WHERE n <= $2 ORDER BY 1, n",
        period, per_entity)
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r["entity_id"], []).append(r["traceparent"])
    return found


async def published(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> dict[str, tuple[str, int]]:
    """Key → (ce_id, revision) of the cards published so far."""
    rows = await conn.fetch("SELECT key, event_id, revision FROM cards WHERE period = $1 AND entity_type = $2",
                            period, entity_type.value)
    return {r["key"]: (r["event_id"], r["revision"]) for r in rows}


async def used_event_ids(conn: asyncpg.Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of these ce_ids were already published (their outbox rows)."""
    if not event_ids:
        return set()
    rows = await conn.fetch("SELECT event_id FROM outbox WHERE event_id = ANY($1::text[])", list(event_ids))
    return {r["event_id"] for r in rows}


async def save_cards(conn: asyncpg.Connection, cards: Sequence[tuple[ScoreCard, str, str, int]]) -> None:
    """(card, content hash, ce_id, revision) of each card to publish, in one round trip."""
    await conn.executemany(
        "INSERT INTO cards (key, period, entity_type, entity_id, ruler_version, content_hash, revision, rank, total, "
        "body, parent_id, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12) "
        "ON CONFLICT (key) DO UPDATE SET ruler_version = EXCLUDED.ruler_version, "
        "content_hash = EXCLUDED.content_hash, revision = EXCLUDED.revision, rank = EXCLUDED.rank, "
        "total = EXCLUDED.total, body = EXCLUDED.body, parent_id = EXCLUDED.parent_id, event_id = EXCLUDED.event_id",
        [(card.key, card.period, card.entity_type.value, card.entity_id, card.ruler_version, digest, revision,
          card.rank, card.total, card.model_dump_json(), card.parent_id, event_id)
         for card, digest, event_id, revision in cards],
    )


async def cards(conn: asyncpg.Connection, period: str, ruler_version: str,
                entity_type: EntityType | None) -> list[ScoreCard]:
    """One ruler version's cards of a month, by type, parent and rank."""
    rows = await conn.fetch(
        "SELECT body FROM cards WHERE period = $1 AND ruler_version = $2 AND ($3::text IS NULL OR entity_type = $3) "
        "ORDER BY entity_type, parent_id NULLS FIRST, rank, entity_id",
        period, ruler_version, entity_type.value if entity_type else None,
    )
    return [ScoreCard.model_validate_json(r["body"]) for r in rows]


async def fact_periods(conn: asyncpg.Connection) -> list[str]:
    return [r["period"] for r in await conn.fetch("SELECT DISTINCT period FROM facts ORDER BY 1")]


async def card_rulers(conn: asyncpg.Connection) -> dict[tuple[str, str], set[str]]:
    """(period, entity type) → the ruler versions its cards were computed with."""
    rows = await conn.fetch("SELECT DISTINCT period, entity_type, ruler_version FROM cards")
    found: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        found.setdefault((r["period"], r["entity_type"]), set()).add(r["ruler_version"])
    return found
