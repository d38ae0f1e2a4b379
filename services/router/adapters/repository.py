"""Case storage: plain parameterised SQL over the router's schema (asyncpg)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

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


_TYPES = (
    "text", "text", "text", "text", "int", "text", "text", "text", "text", "text", "text",
    "text", "text", "text", "text", "float8", "float8", "text", "text", "bool", "int", "jsonb",
    "jsonb", "jsonb", "jsonb", "jsonb", "text", "int", "jsonb",
    "int", "timestamptz", "timestamptz", "timestamptz", "text", "jsonb",
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
# One statement per batch: every column as an array, unnested into rows (no per-row statement).
_UPSERT = (
    f"INSERT INTO cases ({_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"${i}::{t}[]" for i, t in enumerate(_TYPES, start=1))
    + ") ON CONFLICT (case_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _NAMES[2:])
)
_APPEND = (
    "INSERT INTO case_events (case_id, seq, event_id, kind, state, at, actor, reason, body) "
    "SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], "
    "$7::text[], $8::text[], $9::jsonb[])"
)
_OPEN = "closed_at IS NULL AND state NOT IN ('merged', 'rejected', 'closed')"


def _json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


async def save_many(conn: asyncpg.Connection, cases: Sequence[Case], events: Sequence[CaseEvent],
                    bodies: Mapping[str, bytes] | None = None) -> None:
    """Upsert the records and append the timeline entries of a whole batch (two statements). `bodies`
    holds the events' JSON already made for the outbox (by event id): each event is serialised once."""
    if cases:
        rows = [_values(c) for c in cases]
        await conn.execute(_UPSERT, *(list(column) for column in zip(*rows, strict=True)))
    if events:
        known = bodies or {}
        await conn.execute(
            _APPEND, [e.case_id for e in events], [e.seq for e in events], [e.event_id for e in events],
            [e.kind.value for e in events], [e.state.value for e in events], [e.at for e in events],
            [e.actor for e in events], [e.reason for e in events],
            [(known[e.event_id].decode() if e.event_id in known else e.model_dump_json()) for e in events],
        )


def _values(case: Case) -> tuple[object, ...]:
    a = case.assignment
    return (
        case.case_id, case.incident_id, case.channel.value, case.state.value, case.seq,
        a.item_code if a else None, a.item_name if a else None, case.list_version,
        a.owner if a else None, a.owner_unit if a else None, a.level.value if a else None,
        a.grid_id if a else None, case.grid_worker, a.community_id if a else None, a.street_id if a else None,
        case.lon, case.lat, case.text, case.urgency, case.citizen, case.returns,
        _json(case.candidates), _json(case.tried),
        _json([s.value for s in case.deadlines.escalation] if case.deadlines else []),
        case.deadlines.model_dump_json() if case.deadlines else None,
        _json(case.explanation) if case.explanation is not None else None,
        case.state_before_suspension.value if case.state_before_suspension else None,
        case.requested_extension_hours, _json(case.reporters), case.merged_count,
        case.opened_at, case.updated_at, case.closed_at, case.model_version,
        _json(list(a.assisting) if a else []),
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


@dataclass(frozen=True)
class Near:
    """What a dispatched incident's duplicate search looks for: open cases of its item around its point
    (or, without a point on either side, in its grid)."""

    item_code: str
    lon: float | None
    lat: float | None
    grid_id: str | None


_LIGHT = ("case_id, incident_id, channel, state, item_code, owner, owner_unit, level, grid_id, lon, lat, "
          "urgency, citizen, opened_at, updated_at, closed_at")
_HAVERSINE = ("2 * 6371000 * asin(sqrt(power(sin(radians(lat - q.lat) / 2), 2) + cos(radians(q.lat)) * "
              "cos(radians(lat)) * power(sin(radians(lon - q.lon) / 2), 2)))")
CELLS_PER_DEGREE = 400  # the cell of the duplicate search's index (sql/004_open_cases_by_cell.sql)
_NEAR = (
    "SELECT c.* FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[], $5::int[], $6::int[], $7::int[], "
    "$8::int[]) AS q(code, lon, lat, grid, lat_lo, lat_hi, lon_lo, lon_hi) CROSS JOIN LATERAL ("
    # an incident with a point: the cells around it, each in opened_at order, then the distance
    "(SELECT k.* FROM generate_series(q.lat_lo, q.lat_hi) la(cell) CROSS JOIN generate_series(q.lon_lo, q.lon_hi) "
    f"lo(cell) CROSS JOIN LATERAL (SELECT {_LIGHT} FROM cases WHERE item_code = q.code AND closed_at IS NULL "
    f"AND floor(lat * {CELLS_PER_DEGREE})::int = la.cell AND floor(lon * {CELLS_PER_DEGREE})::int = lo.cell "
    f"AND opened_at >= $9 AND {_OPEN} AND {_HAVERSINE} <= $10 ORDER BY opened_at LIMIT $11) k) "
    "UNION ALL "  # … and the open cases of its grid without a point
    f"(SELECT {_LIGHT} FROM cases WHERE q.lat IS NOT NULL AND item_code = q.code AND closed_at IS NULL "
    f"AND lat IS NULL AND grid_id = q.grid AND opened_at >= $9 AND {_OPEN} ORDER BY opened_at LIMIT $11) "
    "UNION ALL "  # an incident without a point: every open case of its grid
    f"(SELECT {_LIGHT} FROM cases WHERE q.lat IS NULL AND item_code = q.code AND closed_at IS NULL "
    f"AND grid_id = q.grid AND opened_at >= $9 AND {_OPEN} ORDER BY opened_at LIMIT $11)"
    ") c"
)
_METRES_PER_DEGREE = 111_320.0


async def open_cases_near(
    conn: asyncpg.Connection, wanted: Sequence[Near], since: datetime, radius_m: float, per_query: int = 3
) -> dict[str, list[Case]]:
    """Per item, the open cases opened since `since` that can be duplicates of one of `wanted`: the oldest
    few within the radius of its point (read cell by cell around it, each cell in opened_at order), and
    those in its grid without a point, or every one in its grid when the incident has no point — in one
    statement, whose cost does not grow with the number of open cases; `find_duplicate` makes the final
    choice among them and the batch's own new cases. The cases are light (place, item, state, times):
    for matching only; a case to change is loaded (and locked) with `load`."""
    if not wanted:
        return {}
    cells = [_cells(w, radius_m) for w in wanted]
    rows = await conn.fetch(
        _NEAR, [w.item_code for w in wanted], [w.lon for w in wanted], [w.lat for w in wanted],
        [w.grid_id for w in wanted], *([c[i] for c in cells] for i in range(4)), since,
        radius_m * 1.001, per_query,  # a hair wider than the radius: the exact test is find_duplicate's
    )
    found: dict[str, dict[str, Case]] = {w.item_code: {} for w in wanted}
    for r in rows:
        found[r["item_code"]].setdefault(r["case_id"], _light_case(r))
    return {code: sorted(cases.values(), key=lambda c: c.opened_at) for code, cases in found.items()}


def _cells(w: Near, radius_m: float) -> tuple[int | None, int | None, int | None, int | None]:
    """(lat_lo, lat_hi, lon_lo, lon_hi): the cells that the radius around the point touches."""
    if w.lon is None or w.lat is None:
        return None, None, None, None
    dlat = radius_m * 1.01 / _METRES_PER_DEGREE
    dlon = radius_m * 1.01 / (_METRES_PER_DEGREE * max(math.cos(math.radians(w.lat)), 0.01))
    return (math.floor((w.lat - dlat) * CELLS_PER_DEGREE), math.floor((w.lat + dlat) * CELLS_PER_DEGREE),
            math.floor((w.lon - dlon) * CELLS_PER_DEGREE), math.floor((w.lon + dlon) * CELLS_PER_DEGREE))


def _light_case(row: asyncpg.Record) -> Case:
    assignment = None
    if row["owner"] is not None:
        assignment = Assignment(owner=row["owner"], owner_unit=row["owner_unit"], level=row["level"],
                                item_code=row["item_code"], grid_id=row["grid_id"])
    return Case(case_id=row["case_id"], incident_id=row["incident_id"], channel=Channel(row["channel"]),
                state=CaseState(row["state"]), text="", urgency=row["urgency"], citizen=row["citizen"],
                opened_at=row["opened_at"], updated_at=row["updated_at"], assignment=assignment,
                lon=row["lon"], lat=row["lat"], closed_at=row["closed_at"])


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
