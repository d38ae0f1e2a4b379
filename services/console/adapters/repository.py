"""The console's tables: plain parameterised SQL over its own schema (asyncpg)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import asyncpg

from services.console.domain.hotspots import Sighting
from services.console.domain.readmodel import CaseRow, Clock

_CASE_COLUMNS = [f.name for f in fields(CaseRow)]
_CLOCK_COLUMNS = [f.name for f in fields(Clock)]


async def case_row(conn: asyncpg.Connection, case_id: str) -> CaseRow | None:
    row = await conn.fetchrow(f"SELECT {', '.join(_CASE_COLUMNS)} FROM cases WHERE case_id = $1 FOR UPDATE", case_id)
    return CaseRow(**(dict(row) | {"assisting": tuple(row["assisting"] or ())})) if row else None


async def save_case(conn: asyncpg.Connection, row: CaseRow) -> None:
    await _upsert(conn, "cases", _CASE_COLUMNS, asdict(row))


async def clock(conn: asyncpg.Connection, case_id: str) -> Clock | None:
    row = await conn.fetchrow(f"SELECT {', '.join(_CLOCK_COLUMNS)} FROM clocks WHERE case_id = $1 FOR UPDATE",
                              case_id)
    return Clock(**dict(row)) if row else None


async def save_clock(conn: asyncpg.Connection, row: Clock) -> None:
    await _upsert(conn, "clocks", _CLOCK_COLUMNS, asdict(row))


async def _upsert(conn: asyncpg.Connection, table: str, columns: list[str], values: dict[str, Any]) -> None:
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    await conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                       f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}", *(values[c] for c in columns))


async def add_document(conn: asyncpg.Connection, event_id: str, case_id: str, document: str, to_level: str | None,
                       owner: str | None, reason: str | None, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO documents (event_id, case_id, document, to_level, owner, reason, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        event_id, case_id, document, to_level, owner, reason, at,
    )


async def documents(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT event_id, document, to_level, owner, reason, at FROM documents "
                            "WHERE case_id = $1 ORDER BY at", case_id)
    return [_json(r) for r in rows]


_VIEW = ("SELECT c.case_id, c.state, c.channel, c.urgency, c.item_code, c.item_name, c.owner, c.owner_unit, "
         "c.level, c.grid_id, c.community_id, c.street_id, c.lon, c.lat, c.opened_at, c.updated_at, c.closed_at, "
         "c.assisting, coalesce(k.lateness, 'on_time') AS lateness, k.due_at, k.rung, "
         "coalesce(k.escalations, 0) AS escalations "
         "FROM cases c LEFT JOIN clocks k USING (case_id) ")


async def open_cases(
    conn: asyncpg.Connection, *, owner: str | None = None, states: list[str] | None = None,
    street: str | None = None, item_class: str | None = None, level: str | None = None,
    opened_after: datetime | None = None, limit: int = 2000,
) -> list[dict[str, Any]]:
    """Open cases, oldest first; `owner` narrows to a department's own (owner, owner unit or 协办 assisting)."""
    rows = await conn.fetch(
        _VIEW + "WHERE c.closed_at IS NULL "
        "AND ($1::text IS NULL OR c.owner = $1 OR c.owner_unit = $1 OR $1 = ANY(c.assisting)) "
        "AND ($2::text[] IS NULL OR c.state = ANY($2)) AND ($3::text IS NULL OR c.street_id = $3) "
        "AND ($4::text IS NULL OR c.item_code LIKE $4 || '%') AND ($5::text IS NULL OR c.level = $5) "
        "AND ($6::timestamptz IS NULL OR c.opened_at >= $6) ORDER BY c.opened_at LIMIT $7",
        owner, states, street, item_class, level, opened_after, limit,
    )
    return [_json(r) for r in rows]


async def one_case(conn: asyncpg.Connection, case_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(_VIEW + "WHERE c.case_id = $1", case_id)
    return _json(row) if row else None


async def sightings(conn: asyncpg.Connection, since: datetime, owner: str | None, limit: int = 20000) -> list[Sighting]:
    rows = await conn.fetch(
        "SELECT case_id, item_code, item_name, lon, lat, grid_id, street_id, compound FROM cases "
        "WHERE opened_at >= $1 AND item_code IS NOT NULL AND lon IS NOT NULL AND state <> 'merged' "
        "AND ($2::text IS NULL OR owner = $2 OR owner_unit = $2 OR $2 = ANY(assisting)) "
        "ORDER BY opened_at DESC LIMIT $3",
        since, owner, limit,
    )
    return [Sighting(**dict(r)) for r in rows]


async def create_session(conn: asyncpg.Connection, token_hash: str, username: str, csrf: str, now: datetime,
                         expires_at: datetime) -> None:
    await conn.execute("DELETE FROM sessions WHERE expires_at < $1", now)
    await conn.execute("INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at) "
                       "VALUES ($1, $2, $3, $4, $5)", token_hash, username, csrf, now, expires_at)


async def session(conn: asyncpg.Connection, token_hash: str, now: datetime) -> tuple[str, str] | None:
    row = await conn.fetchrow("SELECT username, csrf FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                              token_hash, now)
    return (row["username"], row["csrf"]) if row else None


async def end_session(conn: asyncpg.Connection, token_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)


async def audit(conn: asyncpg.Connection, *, at: datetime, username: str, actor: str, action: str,
                case_id: str | None, detail: dict[str, Any], outcome: str) -> None:
    await conn.execute(
        "INSERT INTO audit (at, username, actor, action, case_id, detail, outcome) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
        at, username, actor, action, case_id, json.dumps(detail, ensure_ascii=False), outcome,
    )


async def audit_trail(conn: asyncpg.Connection, case_id: str | None, limit: int = 200) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT at, username, actor, action, case_id, detail, outcome FROM audit "
                            "WHERE ($1::text IS NULL OR case_id = $1) ORDER BY id DESC LIMIT $2", case_id, limit)
    return [_json(r) | {"detail": json.loads(r["detail"])} for r in rows]


def _json(row: asyncpg.Record) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
