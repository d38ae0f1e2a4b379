"""Scoring's storage: plain parameterised SQL over the `scoring` schema (asyncpg)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

import asyncpg

from schemas.score import EntityType, ScoreCard
from services.scoring.domain.facts import EntityFacts, FactName, Tally
from services.scoring.domain.revisions import Revision, Stored

DirtyKey = tuple[str, str, str]  # period, entity_type, entity_id
WHOLE_TYPE = "*"

async def mark_dirty(conn: asyncpg.Connection, keys: Iterable[DirtyKey]) -> None:
    """A new mark (sequence value) per key, appended: the publisher clears only marks it has seen."""
    await conn.executemany("INSERT INTO dirty (period, entity_type, entity_id) VALUES ($1, $2, $3)",
                           sorted(set(keys)))


async def dirty_groups(conn: asyncpg.Connection) -> dict[tuple[str, EntityType], int]:
    """Every dirty (period, entity type) with its highest mark."""
    rows = await conn.fetch("SELECT period, entity_type, max(mark) AS mark FROM dirty GROUP BY 1, 2 ORDER BY 1, 2")
    return {(r["period"], EntityType(r["entity_type"])): int(r["mark"]) for r in rows}


async def lock_group(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> None:
    """Serialise recomputation of one (period, entity type) across instances until commit."""
    lock = int.from_bytes(hashlib.sha256(f"scoring:{period}:{entity_type.value}".encode()).digest()[:8], "big",
                          signed=True)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)


async def dirty_entities(conn: asyncpg.Connection, period: str, entity_type: EntityType, upto: int) -> set[str]:
    rows = await conn.fetch("SELECT DISTINCT entity_id FROM dirty WHERE period = $1 AND entity_type = $2 "
                            "AND mark <= $3", period, entity_type.value, upto)
    return {r["entity_id"] for r in rows}


async def latest_mark(conn: asyncpg.Connection) -> int | None:
    """The newest dirty mark of any group: unchanged over an interval means the consumer is caught up."""
    value = await conn.fetchval("SELECT max(mark) FROM dirty")
    return int(value) if value is not None else None


async def highest_mark(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> int | None:
    value = await conn.fetchval("SELECT max(mark) FROM dirty WHERE period = $1 AND entity_type = $2",
                                period, entity_type.value)
    return int(value) if value is not None else None


async def clear_dirty(conn: asyncpg.Connection, period: str, entity_type: EntityType, upto: int) -> None:
    await conn.execute("DELETE FROM dirty WHERE period = $1 AND entity_type = $2 AND mark <= $3",
                       period, entity_type.value, upto)


async def stored_cards(conn: asyncpg.Connection, period: str, entity_type: EntityType) -> dict[str, Stored]:
    rows = await conn.fetch("SELECT key, entity_id, ruler_version, event_id, revision, rank, total, parent_id, "
                            "content_hash, facts_read FROM cards WHERE period = $1 AND entity_type = $2",
                            period, entity_type.value)
    return {r["key"]: Stored(**dict(r)) for r in rows}


async def card_bodies(conn: asyncpg.Connection, keys: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT key, body::text FROM cards WHERE key = ANY($1::text[])", list(keys))
    return {r["key"]: r["body"] for r in rows}


async def entity_facts(conn: asyncpg.Connection, period: str, entity_type: EntityType,
                       only: Iterable[str] | None) -> list[EntityFacts]:
    """The month's running sums of one entity type (of these entities, or all), as formulas read them."""
    ids = sorted(only) if only is not None else None
    args = (period, entity_type.value, ids)
    entities = await conn.fetch("SELECT entity_id, parent_id, as_of, cases_counted FROM entities WHERE period = $1 "
                                "AND entity_type = $2 AND ($3::text[] IS NULL OR entity_id = ANY($3::text[]))", *args)
    found = {r["entity_id"]: EntityFacts(entity_type, r["entity_id"], cases_counted=r["cases_counted"],
                                         parent_id=r["parent_id"], as_of=r["as_of"]) for r in entities}
    tallies = await conn.fetch("SELECT entity_id, fact, tag, n, total FROM tallies WHERE period = $1 AND "
                               "entity_type = $2 AND ($3::text[] IS NULL OR entity_id = ANY($3::text[]))", *args)
    for r in tallies:
        if r["entity_id"] in found:
            found[r["entity_id"]].tallies[(FactName(r["fact"]), r["tag"])] = Tally(r["n"], r["total"])
    return [e for e in found.values() if e.tallies]


async def entity_links(conn: asyncpg.Connection, period: str, entity_type: EntityType,
                       ids: Iterable[str]) -> dict[str, list[str]]:
    """Entity id → the trace parents of the latest events that fed its card (span links)."""
    rows = await conn.fetch("SELECT entity_id, links::text FROM entities WHERE period = $1 AND entity_type = $2 "
                            "AND entity_id = ANY($3::text[])", period, entity_type.value, sorted(set(ids)))
    return {r["entity_id"]: [link[2] for link in json.loads(r["links"])] for r in rows}


async def used_event_ids(conn: asyncpg.Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of these ce_ids were already published (their outbox rows)."""
    if not event_ids:
        return set()
    rows = await conn.fetch("SELECT event_id FROM outbox WHERE event_id = ANY($1::text[])", list(event_ids))
    return {r["event_id"] for r in rows}


async def save_cards(conn: asyncpg.Connection, cards: Sequence[Revision]) -> None:
    """The revisions to publish, in one statement."""
    if not cards:
        return
    rows = [(r.card.key, r.card.period, r.card.entity_type.value, r.card.entity_id, r.card.ruler_version, r.digest,
             r.revision, r.card.rank, r.card.total, r.body, r.card.parent_id, r.event_id, r.facts_read) for r in cards]
    types = ("text", "text", "text", "text", "text", "text", "int", "int", "numeric", "jsonb", "text", "text", "int")
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    await conn.execute(
        "INSERT INTO cards (key, period, entity_type, entity_id, ruler_version, content_hash, revision, rank, total, "
        f"body, parent_id, event_id, facts_read) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (key) DO UPDATE SET ruler_version = EXCLUDED.ruler_version, "
        "content_hash = EXCLUDED.content_hash, revision = EXCLUDED.revision, rank = EXCLUDED.rank, "
        "total = EXCLUDED.total, body = EXCLUDED.body, parent_id = EXCLUDED.parent_id, event_id = EXCLUDED.event_id, "
        "facts_read = EXCLUDED.facts_read",
        *([row[i] for row in rows] for i in range(len(types))),
    )


async def delete_cards(conn: asyncpg.Connection, keys: Sequence[str]) -> None:
    """Cards whose key no longer has facts (tombstoned on the topic)."""
    if keys:
        await conn.execute("DELETE FROM cards WHERE key = ANY($1::text[])", list(keys))


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
    return [r["period"] for r in await conn.fetch("SELECT DISTINCT period FROM entities ORDER BY 1")]


async def card_rulers(conn: asyncpg.Connection) -> dict[tuple[str, str], set[str]]:
    """(period, entity type) → the ruler versions its cards were computed with."""
    rows = await conn.fetch("SELECT DISTINCT period, entity_type, ruler_version FROM cards")
    found: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        found.setdefault((r["period"], r["entity_type"]), set()).add(r["ruler_version"])
    return found
