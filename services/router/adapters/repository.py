"""Case storage: plain parameterised SQL over the router's schema (asyncpg)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from schemas.case import Assignment, CaseEvent, CaseState, Deadlines
from schemas.common import Channel
from services.router.classification.export import CentreDecision
from services.router.domain.case import Case
from services.router.domain.lifecycle import Returned

_COLUMNS = (
    "case_id, incident_id, channel, state, seq, item_code, item_name, list_version, owner, owner_unit, level, "
    "grid_id, grid_worker, community_id, street_id, lon, lat, text, urgency, citizen, returns, candidates, "
    "tried, escalation, deadlines, explanation, state_before_suspension, requested_extension_hours, reporters, "
    "merged_count, opened_at, updated_at, closed_at, model_version, assisting"
)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, 36))


async def load(conn: asyncpg.Connection, case_id: str, *, lock: bool = True) -> Case | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM cases WHERE case_id = $1" + (" FOR UPDATE" if lock else ""), case_id
    )
    return _case(row) if row else None


_UPSERT = (
    f"INSERT INTO cases ({_COLUMNS}) VALUES ({_PLACEHOLDERS}) ON CONFLICT (case_id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _COLUMNS.split(",")[2:])
)
_OPEN = "closed_at IS NULL AND state NOT IN ('merged', 'rejected', 'closed')"


async def save_many(conn: asyncpg.Connection, cases: Sequence[Case], events: Sequence[CaseEvent]) -> None:
    """Upsert the records and append the timeline entries of a whole batch (two round trips)."""
    if cases:
        await conn.executemany(_UPSERT, [_values(c) for c in cases])
    if events:
        await conn.executemany(
            "INSERT INTO case_events (case_id, seq, event_id, kind, state, at, actor, reason, body) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
            [(e.case_id, e.seq, e.event_id, e.kind.value, e.state.value, e.at, e.actor, e.reason,
              e.model_dump_json()) for e in events],
        )


def _values(case: Case) -> tuple[object, ...]:
    a = case.assignment
    return (
        case.case_id, case.incident_id, case.channel.value, case.state.value, case.seq,
        a.item_code if a else None, a.item_name if a else None, case.list_version,
        a.owner if a else None, a.owner_unit if a else None, a.level.value if a else None,
        a.grid_id if a else None, case.grid_worker, a.community_id if a else None, a.street_id if a else None,
        case.lon, case.lat, case.text, case.urgency, case.citizen, case.returns,
        json.dumps(case.candidates), json.dumps(case.tried),
        json.dumps([s.value for s in case.deadlines.escalation] if case.deadlines else []),
        case.deadlines.model_dump_json() if case.deadlines else None,
        json.dumps(case.explanation, ensure_ascii=False) if case.explanation is not None else None,
        case.state_before_suspension.value if case.state_before_suspension else None,
        case.requested_extension_hours, json.dumps(case.reporters, ensure_ascii=False), case.merged_count,
        case.opened_at, case.updated_at, case.closed_at, case.model_version,
        json.dumps(list(a.assisting) if a else []),
    )


async def load_many(conn: asyncpg.Connection, case_ids: Sequence[str]) -> dict[str, Case]:
    """The batch's cases, locked in id order (two instances never lock them in opposite orders)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM cases WHERE case_id = ANY($1::text[]) ORDER BY case_id FOR UPDATE",
        sorted(set(case_ids)),
    )
    return {r["case_id"]: _case(r) for r in rows}


async def incidents_with_cases(conn: asyncpg.Connection, incident_ids: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT incident_id FROM cases WHERE incident_id = ANY($1::text[])",
                            list(set(incident_ids)))
    return {r["incident_id"] for r in rows}


async def lock_items(conn: asyncpg.Connection, item_codes: Sequence[str]) -> None:
    """Serialise duplicate detection per item until the transaction ends (in code order: no deadlock)."""
    if item_codes:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('router.item:' || c)) FROM unnest($1::text[]) c ORDER BY c",
            sorted(set(item_codes)),
        )


async def open_cases_for_items(
    conn: asyncpg.Connection, item_codes: Sequence[str], since: datetime, per_item: int = 200
) -> dict[str, list[Case]]:
    """Per item, its oldest open cases opened since `since` (the duplicate window)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM unnest($1::text[]) AS i(code) CROSS JOIN LATERAL ("
        f"SELECT {_COLUMNS} FROM cases WHERE item_code = i.code AND {_OPEN} AND opened_at >= $2 "
        "ORDER BY opened_at LIMIT $3) c",
        sorted(set(item_codes)), since, per_item,
    )
    found: dict[str, list[Case]] = {code: [] for code in item_codes}
    for r in rows:
        found[r["item_code"]].append(_case(r))
    return found


async def record_merges(conn: asyncpg.Connection, merges: Sequence[tuple[str, str, datetime]]) -> None:
    """(incident id, case id it joined, when) for each repeat report of a batch."""
    if merges:
        await conn.executemany(
            "INSERT INTO merged_incidents (incident_id, case_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            merges,
        )


async def search(
    conn: asyncpg.Connection, *, state: str | None, owner: str | None, street_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Open cases for the command centre's views (manual queue, arbitration, a department's backlog)."""
    rows = await conn.fetch(
        "SELECT case_id, state, channel, item_code, item_name, owner, owner_unit, level, street_id, "
        "community_id, grid_id, assisting, opened_at, updated_at FROM cases "
        "WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR owner = $2 OR assisting ? $2) "
        "AND ($3::text IS NULL OR street_id = $3) AND closed_at IS NULL ORDER BY opened_at LIMIT $4",
        state, owner, street_id, limit,
    )
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]


async def unruled_returns(conn: asyncpg.Connection, case_id: str) -> list[Returned]:
    """退单 of the case after the last 仲裁 ruling (the last `dispatched` that carried rulings)."""
    rows = await conn.fetch(
        "SELECT seq, at, body->'assignment'->>'owner' AS owner FROM case_events WHERE case_id = $1 "
        "AND kind = 'returned' AND seq > COALESCE((SELECT max(seq) FROM case_events WHERE case_id = $1 "
        "AND kind = 'dispatched' AND jsonb_array_length(COALESCE(body->'return_rulings', '[]')) > 0), 0) "
        "ORDER BY seq", case_id,
    )
    return [Returned(r["owner"], r["seq"], r["at"]) for r in rows if r["owner"]]


async def timeline(conn: asyncpg.Connection, case_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT body FROM case_events WHERE case_id = $1 ORDER BY seq", case_id)
    return [json.loads(r["body"]) for r in rows]


def _case(row: asyncpg.Record) -> Case:
    assignment = None
    if row["owner"] is not None:
        assignment = Assignment(
            owner=row["owner"], owner_unit=row["owner_unit"], level=row["level"], item_code=row["item_code"],
            item_name=row["item_name"], grid_id=row["grid_id"], community_id=row["community_id"],
            street_id=row["street_id"], assisting=tuple(json.loads(row["assisting"])),
        )
    return Case(
        case_id=row["case_id"], incident_id=row["incident_id"], channel=Channel(row["channel"]),
        state=CaseState(row["state"]), text=row["text"], urgency=row["urgency"], citizen=row["citizen"],
        opened_at=row["opened_at"], updated_at=row["updated_at"], seq=row["seq"], assignment=assignment,
        deadlines=Deadlines.model_validate_json(row["deadlines"]) if row["deadlines"] else None,
        list_version=row["list_version"], grid_worker=row["grid_worker"], lon=row["lon"], lat=row["lat"],
        returns=row["returns"], candidates=json.loads(row["candidates"]), tried=json.loads(row["tried"]),
        explanation=json.loads(row["explanation"]) if row["explanation"] else None,
        state_before_suspension=CaseState(row["state_before_suspension"]) if row["state_before_suspension"]
        else None,
        requested_extension_hours=row["requested_extension_hours"], reporters=json.loads(row["reporters"]),
        merged_count=row["merged_count"], closed_at=row["closed_at"], model_version=row["model_version"],
    )


async def centre_decisions(conn: asyncpg.Connection) -> list[CentreDecision]:
    """The last hand dispatch, re-dispatch after a return or arbitration of every case (export-training)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (e.case_id) e.case_id, e.reason, c.text, c.channel, "
        "e.body->'assignment'->>'item_code' AS item_code, e.body->'assignment'->>'owner' AS owner, "
        "c.explanation->'classification'->'candidates'->0->>'item_code' AS router_item "
        "FROM case_events e JOIN cases c USING (case_id) WHERE e.kind = 'dispatched' "
        "AND (e.actor LIKE 'CENTER%' OR e.reason LIKE 're-routed after return%') ORDER BY e.case_id, e.seq DESC"
    )
    return [CentreDecision(case_id=r["case_id"], text=r["text"], channel=r["channel"], kind=_centre_kind(r["reason"]),
                           item_code=r["item_code"], owner=r["owner"], router_item=r["router_item"]) for r in rows]


def _centre_kind(reason: str | None) -> str:
    reason = reason or ""
    if reason.startswith("arbitration"):
        return "arbitration"
    return "redispatch" if reason.startswith("re-routed") else "manual"
