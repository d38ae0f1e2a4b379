"""SLA storage: plain parameterised SQL over the sla schema (asyncpg)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from schemas.common import Level
from schemas.sla import SlaStage
from services.sla.domain.deadlines import CaseClocks, Deadline, DeadlineState

_COLS = ("case_id, gen, rev, stage, state, limit_text, working, started_at, allowed_s, due_at, warn_at, warned, "
         "remaining_s, owner, owner_unit, level, street_id, ladder, ended_at")
_OPEN = "('running', 'paused', 'overdue')"


async def first_time(conn: asyncpg.Connection, event_id: str, topic: str) -> bool:
    """Inbox: True the first time an event id is seen (in this transaction's commit)."""
    row = await conn.fetchval(
        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1", event_id, topic
    )
    return row is not None


async def load_case(conn: asyncpg.Connection, case_id: str) -> CaseClocks:
    """The case's clocks, locked for this transaction (created on first sight)."""
    await conn.execute("INSERT INTO sla_cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)
    row = await conn.fetchrow(
        "SELECT last_seq, escalations, next_gen FROM sla_cases WHERE case_id = $1 FOR UPDATE", case_id)
    open_row = await conn.fetchrow(f"SELECT {_COLS} FROM deadlines WHERE case_id = $1 AND state IN {_OPEN}", case_id)
    return CaseClocks(case_id=case_id, last_seq=row["last_seq"], escalations=row["escalations"],
                      next_gen=row["next_gen"], open=_deadline(open_row) if open_row else None)


async def save_case(conn: asyncpg.Connection, case: CaseClocks, touched: list[Deadline]) -> None:
    await conn.execute(
        "UPDATE sla_cases SET last_seq = $2, escalations = $3, next_gen = $4, updated_at = now() WHERE case_id = $1",
        case.case_id, case.last_seq, case.escalations, case.next_gen,
    )
    # closing rows first keeps the one-open-stage index true at every statement
    for d in sorted(touched, key=lambda d: d.is_open):
        await save_deadline(conn, d)


async def save_deadline(conn: asyncpg.Connection, d: Deadline) -> None:
    values = (d.case_id, d.gen, d.rev, d.stage.value, d.state.value, d.limit, d.working, d.started_at,
              d.allowed.total_seconds(), d.due_at, d.warn_at, d.warned,
              d.remaining.total_seconds() if d.remaining is not None else None, d.owner, d.owner_unit,
              d.level.value if d.level else None, d.street_id, json.dumps([s.value for s in d.ladder]), d.ended_at)
    updates = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _COLS.split(",")[2:])
    await conn.execute(
        f"INSERT INTO deadlines ({_COLS}) VALUES ({', '.join(f'${i}' for i in range(1, 20))}) "
        f"ON CONFLICT (case_id, gen) DO UPDATE SET {updates}", *values)


async def due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[CaseClocks, Deadline]]:
    """Running stages whose warning point or deadline has come, locked with their case; rows another
    instance (or the consumer) holds are skipped, so timers on several instances never fire twice."""
    rows = await conn.fetch(
        f"SELECT {', '.join('d.' + c.strip() for c in _COLS.split(','))}, c.last_seq, c.escalations, c.next_gen "
        "FROM deadlines d JOIN sla_cases c USING (case_id) "
        "WHERE d.state = 'running' AND (d.due_at <= $1 OR (NOT d.warned AND d.warn_at <= $1)) "
        "ORDER BY d.due_at LIMIT $2 FOR UPDATE OF d, c SKIP LOCKED", now, limit,
    )
    out = []
    for r in rows:
        d = _deadline(r)
        out.append((CaseClocks(r["case_id"], r["last_seq"], r["escalations"], r["next_gen"], d), d))
    return out


async def overdue(conn: asyncpg.Connection, level: str | None, owner: str | None, street: str | None,
                  limit: int) -> list[Deadline]:
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM deadlines WHERE state = 'overdue' AND ($1::text IS NULL OR level = $1) "
        "AND ($2::text IS NULL OR owner = $2 OR owner_unit = $2) AND ($3::text IS NULL OR street_id = $3) "
        "ORDER BY due_at LIMIT $4", level, owner, street, limit,
    )
    return [_deadline(r) for r in rows]


async def for_case(conn: asyncpg.Connection, case_id: str) -> list[Deadline]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM deadlines WHERE case_id = $1 ORDER BY gen", case_id)
    return [_deadline(r) for r in rows]


def _deadline(r: Any) -> Deadline:
    return Deadline(
        case_id=r["case_id"], gen=r["gen"], stage=SlaStage(r["stage"]), limit=r["limit_text"], working=r["working"],
        started_at=r["started_at"], allowed=timedelta(seconds=r["allowed_s"]), due_at=r["due_at"],
        warn_at=r["warn_at"], owner=r["owner"], owner_unit=r["owner_unit"],
        level=Level(r["level"]) if r["level"] else None, street_id=r["street_id"],
        ladder=tuple(Level(s) for s in json.loads(r["ladder"])), state=DeadlineState(r["state"]), rev=r["rev"],
        remaining=timedelta(seconds=r["remaining_s"]) if r["remaining_s"] is not None else None,
        warned=r["warned"], ended_at=r["ended_at"],
    )
