"""Open311 GeoReport v2 `GET /open311/v2/requests.json`: requests with their case's status.

Filters: `service_request_id` (comma list, overrides the rest), `service_code`, `start_date`/`end_date`
(w3c date-times; default the last 90 days, at most 90 days apart), `status` (open/closed), and the
`page`/`page_size` extension (1,000 per page at most, the spec's default limit)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from schemas.common import Channel
from services.intake.adapters import open311_store as store
from services.intake.adapters.http.open311 import ERRORS, INCIDENT_ID, georeport_error
from services.intake.domain.open311_status import DEFAULT_LIMIT, parse_query, render
from services.intake.domain.open311_status import Query as RequestQuery

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])


@router.get("/requests.json", responses=ERRORS,
            summary="Requests with their status (newest first): closed when the case is closed")
async def list_requests(
    request: Request,
    service_request_id: str | None = Query(None, description="comma-separated ids; overrides every other filter"),
    service_code: str | None = Query(None, examples=["A01.001"]),
    start_date: str | None = Query(None, examples=["2026-11-01T00:00:00+08:00"]),
    end_date: str | None = Query(None, examples=["2026-11-30T23:59:59+08:00"]),
    status: str | None = Query(None, description="open | closed"),
    page: str | None = Query(None, description="extension: 1-based page number"),
    page_size: str | None = Query(None, description=f"extension: requests per page, at most {DEFAULT_LIMIT}"),
) -> Any:
    given = {"service_request_id": service_request_id, "service_code": service_code, "start_date": start_date,
             "end_date": end_date, "status": status, "page": page, "page_size": page_size}
    query = parse_query({k: v for k, v in given.items() if v is not None}, datetime.now(UTC))
    if isinstance(query, str):
        return georeport_error(400, query)
    return await requests_for(request, query)


@router.get("/requests/{service_request_id}.json", responses=ERRORS,
            summary="One request with its status, plus its case id and the router's case URL")
async def get_request(service_request_id: str, request: Request) -> Any:
    if not INCIDENT_ID.match(service_request_id):
        return georeport_error(404, f"no service request {service_request_id!r}")
    found = await requests_for(request, RequestQuery(ids=(service_request_id,))) or await _ledger_only(
        request, service_request_id)
    if not found:
        return georeport_error(404, f"no service request {service_request_id!r}")
    case_id = f"C-{service_request_id}"
    return [found[0] | {"case_id": case_id,
                        "case_url": request.app.state.settings.open311_case_url.format(case_id=case_id)}]


async def _ledger_only(request: Request, service_request_id: str) -> list[dict[str, Any]]:
    """A request accepted before intake kept Open311 requests (migration 003): the ledger knows it only."""
    row = await request.app.state.intake.pool.fetchrow(
        "SELECT incident_id, created_at, published_at FROM submissions "
        "WHERE channel = $1 AND incident_id = $2 AND published_at IS NOT NULL", Channel.OPEN311.value,
        service_request_id)
    if row is None:
        return []
    return [{"service_request_id": row["incident_id"], "status": "open", "status_notes": "已受理 Received",
             "requested_datetime": row["created_at"].isoformat(), "updated_datetime": row["published_at"].isoformat()}]


async def requests_for(request: Request, query: RequestQuery) -> list[dict[str, Any]]:
    intake = request.app.state.intake
    rows = await store.search(intake.pool, query)
    names = await intake.agency_names()
    return [render(r, names) for r in rows]
