"""Router's read-only query API, plus `explain` (a decision without side effects) and list reload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from schemas.case import CaseState
from schemas.incident import IncidentReported
from services.router.adapters import repository as repo
from services.router.domain.decide import Routing, route
from services.router.tables import reload

router = APIRouter(tags=["cases"])


@router.get("/v1/cases", summary="Open cases, oldest first: the manual queue (state=manual), arbitration, a backlog")
async def list_cases(
    request: Request,
    state: CaseState | None = None,
    owner: str | None = Query(default=None, examples=["URBAN_MGMT"]),
    street: str | None = Query(default=None, examples=["TJ-03"]),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    async with request.app.state.router.pool.acquire() as conn:
        return await repo.search(conn, state=state.value if state else None, owner=owner, street_id=street,
                                 limit=limit)


@router.get("/v1/cases/{case_id}", summary="A case: state, assignee, deadlines, full timeline, routing explanation")
async def get_case(case_id: str, request: Request) -> dict[str, Any]:
    async with request.app.state.router.pool.acquire() as conn:
        case = await repo.load(conn, case_id, lock=False)
        if case is None:
            raise HTTPException(404, f"no case {case_id}")
        timeline = await repo.timeline(conn, case_id)
    return {
        "case_id": case.case_id, "incident_id": case.incident_id, "channel": case.channel.value,
        "state": case.state.value, "text": case.text, "urgency": case.urgency,
        "point": {"lon": case.lon, "lat": case.lat} if case.lon is not None and case.lat is not None else None,
        "assignment": case.assignment.model_dump(mode="json") if case.assignment else None,
        "deadlines": case.deadlines.model_dump(mode="json") if case.deadlines else None,
        "list_version": case.list_version, "returns": case.returns, "reporters": case.reporters,
        "merged_count": case.merged_count, "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "explanation": case.explanation, "timeline": timeline,
    }


@router.post("/v1/routing/explain", tags=["routing"],
             summary="Run the routing decision for an incident without creating anything")
async def explain(incident: IncidentReported, request: Request) -> dict[str, Any]:
    return explain_routing(route(incident, request.app.state.router.context.tables.current))


@router.post("/v1/admin/responsibility-list:reload", tags=["routing"],
             summary="Load the responsibility list again now (it is also watched for changes)")
async def reload_list(request: Request) -> JSONResponse:
    r = request.app.state.router
    result = reload(r.settings, r.context.tables)
    if isinstance(result, list):
        return JSONResponse({"status": "invalid", "problems": result, "kept": r.context.tables.current.version},
                            status_code=422)
    return JSONResponse({"status": "loaded", "version": result})


def explain_routing(routing: Routing) -> dict[str, Any]:
    return {
        "outcome": routing.outcome,
        "list_version": routing.list_version,
        "assignment": routing.assignment.model_dump(mode="json") if routing.assignment else None,
        "deadlines": routing.deadlines.model_dump(mode="json") if routing.deadlines else None,
        "next_candidates": list(routing.candidates),
        "explanation": routing.explanation,
    }
