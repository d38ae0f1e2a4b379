"""SLA's read-only query API: what is overdue now (by level, department, street) and a case's clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from schemas.common import Level
from services.sla.adapters import repository as repo
from services.sla.domain.deadlines import Deadline
from services.sla.domain.durations import parse_duration

router = APIRouter(tags=["sla"])


LevelQ = Annotated[Level | None, Query(description="level the stage is held at")]
DepartmentQ = Annotated[str | None, Query(description="owner: department code, or grid/community/street id")]
StreetQ = Annotated[str | None, Query(description="street id")]
CommunityQ = Annotated[str | None, Query(description="community id")]
AssistingQ = Annotated[str | None, Query(description="协办: an assisting department of the lead's case")]
LimitQ = Annotated[int, Query(ge=1, le=5000)]
WithinQ = Annotated[str, Query(examples=["4h"], pattern=r"^\d+(m|h|d)$", description="natural minutes/hours/days")]


def _filters(level: Level | None, department: str | None, street: str | None, community: str | None,
             assisting: str | None) -> repo.Filters:
    return repo.Filters(level.value if level else None, department, street, community, assisting)


@router.get("/v1/sla/overdue", summary="Open stages past their deadline, and escalated cases still open (with "
                                       "their rung), oldest first, with counts per filter value")
async def list_overdue(request: Request, level: LevelQ = None, department: DepartmentQ = None,
                       street: StreetQ = None, community: CommunityQ = None, assisting: AssistingQ = None,
                       limit: LimitQ = 500) -> dict[str, Any]:
    now = datetime.now(UTC)
    f = _filters(level, department, street, community, assisting)
    async with request.app.state.sla.pool.acquire() as conn:
        rows = await repo.overdue(conn, f, limit)
        counts = await repo.counts(conn, f, repo.LISTED_WHERE)
    return {"items": [_listed(d, now) for d in rows], "counts": counts,
            "total": sum(counts["level"].values())}


@router.get("/v1/sla/due-soon", summary="Running stages due within `within` (e.g. 4h, 2d), soonest first, with "
                                        "counts per filter value")
async def list_due_soon(request: Request, within: WithinQ = "1d",
                        level: LevelQ = None, department: DepartmentQ = None, street: StreetQ = None,
                        community: CommunityQ = None, assisting: AssistingQ = None,
                        limit: LimitQ = 500) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        span = parse_duration(within)
    except ValueError as exc:  # '0d', '5x': a field error, not a 500 (found by the schema-driven fuzz)
        raise HTTPException(422, f"within: {exc}") from exc
    if span.minutes > 60 * 24 * 90:
        raise HTTPException(422, "within: at most 90 days")
    until = now + timedelta(minutes=span.minutes)
    f = _filters(level, department, street, community, assisting)
    async with request.app.state.sla.pool.acquire() as conn:
        rows = await repo.due_soon(conn, f, now, until, limit)
        counts = await repo.counts(conn, f, repo.DUE_SOON_WHERE, now, until)
    return {"within": within, "until": until.isoformat(), "items": [_listed(d, now) for d in rows],
            "counts": counts, "total": sum(counts["level"].values())}


@router.get("/v1/sla/cases/{case_id}", summary="A case's stage clocks, oldest first")
async def case_deadlines(case_id: str, request: Request) -> dict[str, Any]:
    async with request.app.state.sla.pool.acquire() as conn:
        rows = await repo.for_case(conn, case_id)
        documents = await repo.documents_of(conn, case_id)
    if not rows:
        raise HTTPException(404, f"no deadlines for case {case_id}")
    return {"case_id": case_id, "calendar_version": request.app.state.sla.context.rules.calendar.version,
            "deadlines": [_deadline(d) for d in rows], "documents": [_document_ref(x) for x in documents]}


@router.get("/v1/sla/cases/{case_id}/documents", summary="The documents (两函一单) issued for a case, oldest first")
async def case_documents(case_id: str, request: Request) -> list[dict[str, Any]]:
    async with request.app.state.sla.pool.acquire() as conn:
        return [_document_ref(x) for x in await repo.documents_of(conn, case_id)]


@router.get("/v1/sla/documents/{doc_id}.html", summary="One document, printable (HTML with print styles)",
            response_class=HTMLResponse)
async def print_document(doc_id: str, request: Request) -> HTMLResponse:
    return HTMLResponse((await _document(request, doc_id))["html"])


@router.get("/v1/sla/documents/{doc_id}", summary="One document by its id (TJ-2026-DB-0007): number, addressee, text")
async def get_document(doc_id: str, request: Request) -> dict[str, Any]:
    found = await _document(request, doc_id)
    return _document_ref(found) | {"district": found["district"], "case_id": found["case_id"],
                                   "text": found["text_body"], "html_url": f"/v1/sla/documents/{doc_id}.html"}


async def _document(request: Request, doc_id: str) -> dict[str, Any]:
    async with request.app.state.sla.pool.acquire() as conn:
        found = await repo.document(conn, doc_id)
    if found is None:
        raise HTTPException(404, f"no document {doc_id}")
    return found


def _document_ref(x: dict[str, Any]) -> dict[str, Any]:
    return {"doc_id": x["doc_id"], "doc_no": x["doc_no"], "kind": x["kind"], "year": x["year"],
            "serial": x["serial"], "addressee": x["addressee"], "issued_at": _iso(x["issued_at"]),
            "decision": x["decision"], "url": f"/v1/sla/documents/{x['doc_id']}"}


def _listed(d: Deadline, now: datetime) -> dict[str, Any]:
    late = (now - d.due_at).total_seconds() if d.due_at else 0.0
    return {"case_id": d.case_id, "stage": d.stage.value, "state": d.state.value, "due": _iso(d.due_at),
            "overdue_by_seconds": max(0, int(late)), "due_in_seconds": max(0, int(-late)), "owner": d.owner,
            "owner_unit": d.owner_unit, "level": d.level.value if d.level else None, "street_id": d.street_id,
            "community_id": d.community_id, "limit": d.limit, "rung": d.rung, "breached": d.breached,
            "warnings": d.warnings, "provisional": d.provisional, "assisting": list(d.assisting)}


def _deadline(d: Deadline) -> dict[str, Any]:
    return {"stage": d.stage.value, "state": d.state.value, "limit": d.limit,
            "clock": "working" if d.working else "natural", "started_at": _iso(d.started_at), "due": _iso(d.due_at),
            "warn_at": _iso(d.warn_at), "warned": d.warned,
            "remaining_seconds": d.remaining.total_seconds() if d.remaining is not None else None,
            "owner": d.owner, "owner_unit": d.owner_unit, "level": d.level.value if d.level else None,
            "street_id": d.street_id, "community_id": d.community_id, "ended_at": _iso(d.ended_at),
            "warnings": d.warnings, "breached": d.breached, "rung": d.rung, "provisional": d.provisional,
            "assisting": list(d.assisting)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
