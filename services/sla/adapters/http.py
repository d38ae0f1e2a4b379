"""SLA's read-only query API: what is overdue now (by level, department, street) and a case's clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from schemas.common import Level
from services.sla.adapters import repository as repo
from services.sla.domain.deadlines import Deadline

router = APIRouter(tags=["sla"])


@router.get("/v1/sla/overdue", summary="Open stages past their deadline, oldest first")
async def list_overdue(
    request: Request,
    level: Level | None = None,
    department: str | None = Query(default=None, description="owner: department code, or grid/community/street id"),
    street: str | None = Query(default=None, description="street id"),
    limit: int = Query(default=500, ge=1, le=5000),
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    async with request.app.state.sla.pool.acquire() as conn:
        rows = await repo.overdue(conn, level.value if level else None, department, street, limit)
    return [_overdue(d, now) for d in rows]


@router.get("/v1/sla/cases/{case_id}", summary="A case's stage clocks, oldest first")
async def case_deadlines(case_id: str, request: Request) -> dict[str, Any]:
    async with request.app.state.sla.pool.acquire() as conn:
        rows = await repo.for_case(conn, case_id)
    if not rows:
        raise HTTPException(404, f"no deadlines for case {case_id}")
    return {"case_id": case_id, "calendar_version": request.app.state.sla.context.rules.calendar.version,
            "deadlines": [_deadline(d) for d in rows]}


def _overdue(d: Deadline, now: datetime) -> dict[str, Any]:
    late = (now - d.due_at).total_seconds() if d.due_at else 0.0
    return {"case_id": d.case_id, "stage": d.stage.value, "due": _iso(d.due_at),
            "overdue_by_seconds": max(0, int(late)), "owner": d.owner, "owner_unit": d.owner_unit,
            "level": d.level.value if d.level else None, "street_id": d.street_id, "limit": d.limit}


def _deadline(d: Deadline) -> dict[str, Any]:
    return {"stage": d.stage.value, "state": d.state.value, "limit": d.limit,
            "clock": "working" if d.working else "natural", "started_at": _iso(d.started_at), "due": _iso(d.due_at),
            "warn_at": _iso(d.warn_at), "warned": d.warned,
            "remaining_seconds": d.remaining.total_seconds() if d.remaining is not None else None,
            "owner": d.owner, "owner_unit": d.owner_unit, "level": d.level.value if d.level else None,
            "street_id": d.street_id, "ended_at": _iso(d.ended_at)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
