"""Scoring's storage: plain parameterised SQL over the `scoring` schema (asyncpg)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from schemas.score import EntityType, ScoreCard
from services.scoring.domain.facts import CaseContext, EntityFacts, Fact, FactName, Tally

DirtyKey = tuple[str, str, str]  # period, entity_type, entity_id
WHOLE_TYPE = "*"

# Where each entity type's id comes from: departments and workers are on the fact, places on the case.
_ENTITY_SOURCE: dict[EntityType, tuple[str, str]] = {
    EntityType.DEPARTMENT: ("f.department", "facts f"),
    EntityType.GRID_WORKER: ("f.worker", "facts f"),
    EntityType.COMMUNITY: ("c.community_id", "facts f JOIN cases c ON c.case_id = f.case_id"),
    EntityType.STREET: ("c.street_id", "facts f JOIN cases c ON c.case_id = f.case_id"),
}


async def first_time(conn: asyncpg.Connection, event_id: str, topic: str) -> bool:
    """Inbox: True the first time an event id is seen (in this transaction's commit)."""
    row = await conn.fetchval(
        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1", event_id, topic
    )
    return row is not None


async def load_case(conn: asyncpg.Connection, case_id: str) -> CaseContext | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    if row is None:
        return None
    return CaseContext(case_id=row["case_id"], reported_period=row["reported_period"], reporter=row["reporter"],
                       level=row["level"], grid_id=row["grid_id"], community_id=row["community_id"],
                       street_id=row["street_id"], resolved_at=row["resolved_at"])


async def ensure_case(conn: asyncpg.Connection, case_id: str) -> None:
    await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)


async def save_case(conn: asyncpg.Connection, c: CaseContext) -> None:
    await conn.execute(
        "INSERT INTO cases (case_id, reported_period, reporter, level, grid_id, community_id, street_id, resolved_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id) DO UPDATE SET "
        "reported_period = EXCLUDED.reported_period, reporter = EXCLUDED.reporter, level = EXCLUDED.level, "
        "grid_id = EXCLUDED.grid_id, community_id = EXCLUDED.community_id, street_id = EXCLUDED.street_id, "
        "resolved_at = EXCLUDED.resolved_at",
        c.case_id, c.reported_period, c.reporter, c.level, c.grid_id, c.community_id, c.street_id, c.resolved_at,
    )


async def add_facts(conn: asyncpg.Connection, event_id: str, facts: Sequence[Fact]) -> None:
    await conn.executemany(
        "INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, worker) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        [(event_id, i, f.case_id, f.period, f.name.value, f.tag, f.value, f.department, f.worker)
         for i, f in enumerate(facts)],
    )


async def case_periods(conn: asyncpg.Connection, case_id: str) -> list[str]:
    rows = await conn.fetch("SELECT DISTINCT period FROM facts WHERE case_id = $1", case_id)
    return [r["period"] for r in rows]


async def mark_dirty(conn: asyncpg.Connection, keys: Iterable[DirtyKey]) -> None:
    """A new mark (sequence value) per key: the publisher clears only marks it has seen."""
    await conn.executemany(
        "INSERT INTO dirty (period, entity_type, entity_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (period, entity_type, entity_id) DO UPDATE SET mark = nextval('dirty_mark')",
        sorted(set(keys)),
    )


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
    """The month's facts of one entity type, summed per entity, fact and tag (exact numeric sums)."""
    entity, source = _ENTITY_SOURCE[entity_type]
    where = f"f.period = $1 AND {entity} IS NOT NULL"
    tallies = await conn.fetch(f"SELECT {entity} AS entity_id, f.fact, f.tag, count(*) AS n, sum(f.value) AS total "
                               f"FROM {source} WHERE {where} GROUP BY 1, 2, 3", period)
    cases = await conn.fetch(f"SELECT {entity} AS entity_id, count(DISTINCT f.case_id) AS n FROM {source} "
                             f"WHERE {where} GROUP BY 1", period) if tallies else []
    entities = {r["entity_id"]: EntityFacts(entity_type, r["entity_id"], cases_counted=r["n"]) for r in cases}
    for r in tallies:
        entities[r["entity_id"]].tallies[(FactName(r["fact"]), r["tag"])] = Tally(r["n"], r["total"])
    return list(entities.values())


async def published(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> dict[str, tuple[str, int]]:
    """Key → (content hash, revision) of the cards published so far."""
    rows = await conn.fetch("SELECT key, content_hash, revision FROM cards WHERE period = $1 AND entity_type = $2",
                            period, entity_type.value)
    return {r["key"]: (r["content_hash"], r["revision"]) for r in rows}


async def save_card(conn: asyncpg.Connection, card: ScoreCard, digest: str, revision: int) -> None:
    await conn.execute(
        "INSERT INTO cards (key, period, entity_type, entity_id, ruler_version, content_hash, revision, rank, total, "
        "body, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) ON CONFLICT (key) DO UPDATE "
        "SET ruler_version = EXCLUDED.ruler_version, content_hash = EXCLUDED.content_hash, "
        "revision = EXCLUDED.revision, rank = EXCLUDED.rank, total = EXCLUDED.total, body = EXCLUDED.body, "
        "computed_at = EXCLUDED.computed_at",
        card.key, card.period, card.entity_type.value, card.entity_id, card.ruler_version, digest, revision,
        card.rank, card.total, card.model_dump_json(), card.computed_at,
    )


async def cards(conn: asyncpg.Connection, period: str, entity_type: EntityType | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT body FROM cards WHERE period = $1 AND ($2::text IS NULL OR entity_type = $2) "
        "ORDER BY entity_type, rank, entity_id", period, entity_type.value if entity_type else None,
    )
    return [json.loads(r["body"]) for r in rows]


async def fact_periods(conn: asyncpg.Connection) -> list[str]:
    return [r["period"] for r in await conn.fetch("SELECT DISTINCT period FROM facts ORDER BY 1")]


async def card_rulers(conn: asyncpg.Connection) -> dict[tuple[str, str], set[str]]:
    rows = await conn.fetch("SELECT DISTINCT period, entity_type, ruler_version FROM cards")
    found: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        found.setdefault((r["period"], r["entity_type"]), set()).add(r["ruler_version"])
    return found
