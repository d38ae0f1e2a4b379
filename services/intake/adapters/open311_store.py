"""Open311 requests and their case status in intake's schema: plain parameterised SQL (asyncpg)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import asyncpg

from services.intake.domain.open311_status import Query, Status

_STATUS = [f.name for f in fields(Status)]


async def record_request(conn: asyncpg.Connection | asyncpg.Pool, row: dict[str, Any]) -> None:
    """Idempotent: a retried submission writes nothing new (and repairs a row a crash left out)."""
    await conn.execute(
        "INSERT INTO open311_requests (service_request_id, case_id, service_code, service_name, description, "
        "lat, long, address, media_url, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (service_request_id) DO NOTHING",
        row["service_request_id"], row["case_id"], row["service_code"], row["service_name"], row["description"],
        row["lat"], row["long"], row["address"], row["media_url"], row["requested_at"],
    )


async def status(conn: asyncpg.Connection, case_id: str) -> Status | None:
    row = await conn.fetchrow(f"SELECT {', '.join(_STATUS)} FROM open311_status WHERE case_id = $1 FOR UPDATE",
                              case_id)
    return Status(**dict(row)) if row else None


async def save_status(conn: asyncpg.Connection, s: Status) -> None:
    marks = ", ".join(f"${i}" for i in range(1, len(_STATUS) + 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _STATUS[1:])
    values = asdict(s)
    await conn.execute(f"INSERT INTO open311_status ({', '.join(_STATUS)}) VALUES ({marks}) "
                       f"ON CONFLICT (case_id) DO UPDATE SET {updates}", *(values[c] for c in _STATUS))


_SELECT = ("SELECT r.service_request_id, r.service_code, r.service_name, r.description, r.lat, r.long, r.address, "
           "r.media_url, r.requested_at, s.state, s.owner, s.owner_unit, s.notes, s.updated_at, s.expected_at "
           "FROM open311_requests r LEFT JOIN open311_status s USING (case_id) ")
_CLOSED = "coalesce(s.state, '') IN ('closed', 'merged', 'rejected')"


async def search(pool: asyncpg.Pool, q: Query) -> list[dict[str, Any]]:
    offset = (q.page - 1) * q.page_size
    if q.ids:
        rows = await pool.fetch(_SELECT + "WHERE r.service_request_id = ANY($1) ORDER BY r.requested_at DESC, "
                                "r.service_request_id LIMIT $2 OFFSET $3", list(q.ids), q.page_size, offset)
    else:
        state = {"open": f"NOT {_CLOSED}", "closed": _CLOSED}.get(q.status or "", "true")
        rows = await pool.fetch(
            _SELECT + f"WHERE r.requested_at >= $1 AND r.requested_at <= $2 AND ($3::text IS NULL OR "
            f"r.service_code = $3) AND {state} ORDER BY r.requested_at DESC, r.service_request_id LIMIT $4 OFFSET $5",
            q.start, q.end, q.service_code, q.page_size, offset,
        )
    return [dict(r) for r in rows]


def load_names(city_dir: Path) -> dict[str, str]:
    """Agencies' names from the city directory (simcity export): departments, streets, communities, grids."""
    names: dict[str, str] = {}
    directory, grids = city_dir / "directory.json", city_dir / "grids.geojson"
    if directory.exists():
        doc = json.loads(directory.read_text())
        names.update({d["code"]: d["name"] for d in doc.get("departments", [])})
        names.update({s["street_id"]: s["name"] for s in doc.get("streets", [])})
        names.update({c["community_id"]: c["name"] for c in doc.get("communities", [])})
    if grids.exists():
        names.update({f["properties"]["grid_id"]: f["properties"]["name"]
                      for f in json.loads(grids.read_text()).get("features", [])})
    return names
