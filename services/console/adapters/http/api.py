"""The console's JSON API for its pages: queues, map, case, board, hotspots, scores — each narrowed to
what the signed-in user may see — and actions, written through intake's department action API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from services.console.adapters import repository as repo
from services.console.adapters.http.auth import csrf_user, current_user
from services.console.domain.access import may_act, may_see, owner_filter
from services.console.domain.board import DOCUMENTS, tallies
from services.console.domain.candidates import top_candidates
from services.console.domain.hotspots import find_hotspots
from services.console.domain.users import Role, User

router = APIRouter(prefix="/api", tags=["console"])
QUEUES = {"manual": ["manual"], "arbitration": ["arbitration"], "returned": ["returned"]}
URGENCY_RANK = {"critical": 0, "urgent": 1, "normal": 2}
UserDep = Annotated[User, Depends(current_user)]
MAX_AGE_HOURS = 100 * 366 * 24  # a century: beyond it (or inf) the cut-off date would not exist


class ActionForm(BaseModel):
    kind: str = Field(pattern=r"^[a-z_]{3,30}$", examples=["dispatch"])
    target: str | None = Field(default=None, max_length=80, description="item code or department code")
    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)


def _console(request: Request) -> Any:
    return request.app.state.console


@router.get("/city", summary="Grid polygons and place / department names")
async def city(request: Request, _: UserDep) -> dict[str, Any]:
    c = _console(request).city
    return {"map": c.map, "names": c.names}


@router.get("/items", summary="The responsibility items (from intake's Open311 services.json)")
async def items(request: Request, _: UserDep) -> list[dict[str, Any]]:
    return list((await _items(request)).values())


async def _items(request: Request) -> dict[str, dict[str, Any]]:
    console = _console(request)
    if not console.items:
        answer = await console.upstream.services()
        if answer.ok:
            console.items = {s["service_code"]: s for s in answer.body}
    items: dict[str, dict[str, Any]] = console.items
    return items


@router.get("/queue", summary="The centre's queues (人工分拨 manual, 仲裁 arbitration) with text and candidates")
async def queue(request: Request, user: UserDep, kind: str = Query("manual", pattern="^(manual|arbitration|returned)$"),
                limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    if user.role is not Role.CENTRE:
        raise HTTPException(403, "the queues are the command centre's")
    console = _console(request)
    async with console.pool.acquire() as conn:
        rows = await repo.open_cases(conn, states=QUEUES[kind], limit=limit)
    known = await _items(request)
    details = await asyncio.gather(*(console.upstream.case(r["case_id"]) for r in rows))
    out = []
    for row, answer in zip(rows, details, strict=True):
        case = answer.body if answer.ok else {}
        if case and case.get("state") != row["state"]:
            continue  # the router has moved on; the read model catches up in a moment
        located = (case.get("explanation") or {}).get("location") or {}
        place = {k: row.get(k) or located.get(k) for k in ("grid_id", "community_id", "street_id")}
        out.append(row | place | {"text": case.get("text"), "explanation": case.get("explanation"),
                          "candidates": top_candidates(case, known), "returns": case.get("returns", 0)})
    out.sort(key=lambda c: (URGENCY_RANK.get(str(c.get("urgency")), 9), c["opened_at"]))  # most urgent first
    return {"kind": kind, "cases": out}


@router.get("/cases", summary="Open cases for the map, filtered by street, item class, level and age")
async def cases(
    request: Request, user: UserDep, street: str | None = None,
    item_class: str | None = Query(None, pattern=r"^[A-Z][0-9.]*$", examples=["A04"]),
    level: str | None = None, max_age_hours: float | None = Query(None, gt=0, le=MAX_AGE_HOURS),
    state: str | None = None,
) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(hours=max_age_hours) if max_age_hours else None
    async with _console(request).pool.acquire() as conn:
        rows = await repo.open_cases(conn, owner=owner_filter(user), street=street, item_class=item_class,
                                     level=level, opened_after=since, states=[state] if state else None)
    return {"cases": rows}


@router.get("/cases/{case_id}", summary="A case across services: timeline, clocks, explanation, documents, audit")
async def case(case_id: str, request: Request, user: UserDep) -> dict[str, Any]:
    console = _console(request)
    routed, clocks = await asyncio.gather(console.upstream.case(case_id), console.upstream.clocks(case_id))
    async with console.pool.acquire() as conn:
        row = await repo.one_case(conn, case_id)
        documents = await repo.documents(conn, case_id)
        trail = await repo.audit_trail(conn, case_id)
    if not routed.ok and row is None:
        raise HTTPException(404 if routed.status == 404 else 502, f"case {case_id}: {routed.body}")
    holder = _holder(routed.body if routed.ok else {}, row)
    if not may_see(user, holder):
        raise HTTPException(403, "this case is not held by your department")
    return {"case": routed.body if routed.ok else None, "read_model": row,
            "clocks": clocks.body if clocks.ok else None, "documents": documents,
            "document_titles": DOCUMENTS, "audit": trail,
            "candidates": top_candidates(routed.body, await _items(request)) if routed.ok else []}


def _holder(routed: dict[str, Any], row: dict[str, Any] | None) -> dict[str, Any]:
    assignment = routed.get("assignment") or {}
    if assignment:
        return {"owner": assignment.get("owner"), "owner_unit": assignment.get("owner_unit"),
                "assisting": assignment.get("assisting") or []}
    return row or {}


@router.post("/cases/{case_id}/actions", status_code=202,
             summary="Act on a case as the signed-in user (through intake's action API); audited")
async def act(case_id: str, form: ActionForm, request: Request, user: Annotated[User, Depends(csrf_user)]
              ) -> dict[str, Any]:
    console = _console(request)
    routed = await console.upstream.case(case_id)
    if not routed.ok:
        raise HTTPException(404 if routed.status == 404 else 502, f"case {case_id}: {routed.body}")
    refusal = may_act(user, _holder(routed.body, None), form.kind)
    now = datetime.now(UTC)
    action = {"action_id": f"console-{uuid.uuid4().hex}", "kind": form.kind, "actor": user.actor,
              "target": form.target, "reason": form.reason, "note": form.note, "taken_at": now.isoformat()}
    answer = await console.upstream.act(case_id, action) if refusal is None else None
    outcome = ("refused: " + refusal if refusal else "accepted" if answer and answer.ok
               else f"failed: {answer.status if answer else '-'}")
    async with console.pool.acquire() as conn:
        await repo.audit(conn, at=now, username=user.username, actor=user.actor, action=form.kind, case_id=case_id,
                         detail={k: v for k, v in action.items() if v is not None}, outcome=outcome)
    if refusal:
        raise HTTPException(403, refusal)
    assert answer is not None
    if not answer.ok:
        raise HTTPException(answer.status if 400 <= answer.status < 500 else 502, answer.body)
    return {"action_id": action["action_id"], "accepted": answer.body}


@router.get("/board", summary="超期 overdue and 临期 due-soon from sla, with sla's counts per street, department, "
                              "level, community")
async def board(request: Request, user: UserDep, street: str | None = None, level: str | None = None,
                department: str | None = None) -> dict[str, Any]:
    console = _console(request)
    params = {"street": street, "level": level, "department": owner_filter(user) or department}
    overdue, due_soon = await asyncio.gather(console.upstream.overdue(params), console.upstream.due_soon(params))
    async with console.pool.acquire() as conn:
        rungs = {r["case_id"]: r for r in await repo.open_cases(conn, owner=owner_filter(user), limit=5000)}
    out: dict[str, Any] = {"document_titles": DOCUMENTS}
    for name, answer in (("overdue", overdue), ("due_soon", due_soon)):
        rows = _rows(answer.body) if answer.ok else []
        rows = [r | {"rung": r.get("rung") or (rungs.get(r.get("case_id", "")) or {}).get("rung"),
                     "item_name": (rungs.get(r.get("case_id", "")) or {}).get("item_name")} for r in rows]
        counted, total, source = tallies(answer.body if answer.ok else None, rows)
        out[name] = {"available": answer.ok, "status": answer.status, "rows": rows, "counts": counted,
                     "total": total, "counts_from": source}
    return out


def _rows(body: Any) -> list[dict[str, Any]]:
    """sla answers a list, or (newer) an object with `items`/`cases` beside its counts."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("items", "cases", "rows", "stages"):
            if isinstance(body.get(key), list):
                return list(body[key])
    return []


@router.get("/documents/{doc_id}.html", response_class=HTMLResponse,
            summary="A numbered 两函一单 document from sla, printable (for users who may see its case)")
async def document_html(doc_id: str, request: Request, user: UserDep) -> HTMLResponse:
    console = _console(request)
    meta = await console.upstream.document(doc_id)
    if not meta.ok:
        raise HTTPException(404 if meta.status == 404 else 502, f"document {doc_id}: {meta.body}")
    routed = await console.upstream.case(str(meta.body.get("case_id")))
    if not may_see(user, _holder(routed.body if routed.ok else {}, None)):
        raise HTTPException(403, "this case is not held by your department")
    status, html = await console.upstream.document_html(doc_id)
    if status != 200:
        raise HTTPException(502, f"sla answered {status}")
    return HTMLResponse(html)


@router.get("/hotspots", summary="主动治理: the same item again and again within a radius over a window")
async def hotspots(request: Request, user: UserDep) -> dict[str, Any]:
    console = _console(request)
    s = console.settings
    since = datetime.now(UTC) - timedelta(days=s.hotspot_window_days)
    async with console.pool.acquire() as conn:
        seen = await repo.sightings(conn, since, owner_filter(user))
    found = await asyncio.to_thread(find_hotspots, seen, s.hotspot_radius_m, s.hotspot_min_cases)
    return {"radius_m": s.hotspot_radius_m, "window_days": s.hotspot_window_days, "min_cases": s.hotspot_min_cases,
            "hotspots": [{"item_code": h.item_code, "item_name": h.item_name, "lon": h.lon, "lat": h.lat,
                          "grid_id": h.grid_id, "street_id": h.street_id, "compound": h.compound, "count": h.count,
                          "case_ids": list(h.case_ids)} for h in found]}


@router.get("/scores", summary="The ranking of a month per entity type, with each card's breakdown")
async def scores(request: Request, _: UserDep, period: str = Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
                 entity_type: str | None = None, ruler: str | None = None) -> Any:
    answer = await _console(request).upstream.scores({"period": period, "entity_type": entity_type, "ruler": ruler})
    if not answer.ok:
        raise HTTPException(answer.status if 400 <= answer.status < 500 else 502, answer.body)
    return answer.body


@router.get("/scores.csv", summary="The same cards as scoring's CSV (one row per indicator)")
async def scores_csv(request: Request, _: UserDep, period: str = Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
                     entity_type: str | None = None, ruler: str | None = None) -> Response:
    status, body = await _console(request).upstream.scores_csv(
        {"period": period, "entity_type": entity_type, "ruler": ruler})
    if status != 200:
        raise HTTPException(status if 400 <= status < 500 else 502, body[:500])
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="scores-{period}.csv"'})


@router.get("/audit", summary="The console's audit trail (centre only)")
async def audit(request: Request, user: UserDep, case_id: str | None = None) -> list[dict[str, Any]]:
    if user.role is not Role.CENTRE:
        raise HTTPException(403, "the audit trail is the command centre's")
    async with _console(request).pool.acquire() as conn:
        return await repo.audit_trail(conn, case_id)
