"""Open311 GeoReport v2 `GET requests.json`: the query's rules and each request's status, pure.

The status follows the router's case (open until the case is closed, merged or rejected); the notes
come from the latest public step; `expected_datetime` is the SLA deadline of the open stage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from schemas.case import CaseEvent, CaseEventKind, CaseState
from schemas.sla import SlaEvent, SlaEventKind

MAX_SPAN = timedelta(days=90)
DEFAULT_LIMIT = 1000
MAX_PAGE = 100_000
CLOSED = frozenset({CaseState.CLOSED.value, CaseState.MERGED.value, CaseState.REJECTED.value})

# Public steps and what a citizen reads about them (never the internal reason, which may name people).
PUBLIC_NOTES: dict[CaseEventKind, str] = {
    CaseEventKind.CREATED: "已受理 Received",
    CaseEventKind.QUEUED_MANUAL: "指挥中心正在分派 Being assigned by the command centre",
    CaseEventKind.DISPATCHED: "已派遣至责任单位 Assigned to the responsible agency",
    CaseEventKind.ACCEPTED: "责任单位已签收 Accepted by the responsible agency",
    CaseEventKind.PROGRESSED: "正在处置 In progress",
    CaseEventKind.RETURNED: "正在重新分派 Being reassigned",
    CaseEventKind.ARBITRATION_REQUESTED: "指挥中心正在协调 Being coordinated by the command centre",
    CaseEventKind.ESCALATED: "已提级督办 Escalated",
    CaseEventKind.RESOLVED: "已办结，待核查 Resolved, being verified",
    CaseEventKind.VERIFIED: "已核查 Verified",
    CaseEventKind.REOPENED: "重新办理 Reopened",
    CaseEventKind.CLOSED: "已结案 Closed",
    CaseEventKind.MERGED: "与同一问题的诉求合并办理 Merged with a request about the same problem",
    CaseEventKind.REJECTED: "不予受理 Not a valid request",
    CaseEventKind.SUSPENDED: "暂停办理 Suspended",
    CaseEventKind.RESUMED: "恢复办理 Resumed",
    CaseEventKind.EXTENDED: "办理期限已延长 Deadline extended",
}


@dataclass(frozen=True)
class Status:
    case_id: str
    seq: int = 0
    state: str | None = None
    owner: str | None = None
    owner_unit: str | None = None
    notes: str | None = None
    updated_at: datetime | None = None
    expected_at: datetime | None = None


def apply_case_event(status: Status | None, event: CaseEvent) -> Status | None:
    """The status after `event`, or None when the event is stale (nothing to write)."""
    status = status or Status(case_id=event.case_id)
    if event.seq <= status.seq:
        return None
    changes: dict[str, Any] = {"seq": event.seq, "state": event.state.value, "updated_at": event.at}
    if event.assignment is not None:
        changes |= {"owner": event.assignment.owner, "owner_unit": event.assignment.owner_unit}
    if event.kind in PUBLIC_NOTES:
        changes["notes"] = PUBLIC_NOTES[event.kind]
    if event.state.value in CLOSED:
        changes["expected_at"] = None
    return replace(status, **changes)


def apply_sla_event(status: Status | None, event: SlaEvent) -> Status:
    status = status or Status(case_id=event.case_id)
    if event.kind is SlaEventKind.DEADLINE_SET:
        return replace(status, expected_at=event.deadline)
    if event.kind is SlaEventKind.MET and status.state in CLOSED:
        return replace(status, expected_at=None)
    return status


@dataclass(frozen=True)
class Query:
    ids: tuple[str, ...] = ()  # service_request_id list: overrides every other filter
    service_code: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None  # open | closed
    page: int = 1
    page_size: int = DEFAULT_LIMIT


def parse_query(params: dict[str, str], now: datetime) -> Query | str:
    """GeoReport's filters, with the defaults the spec gives (last 90 days, 1,000 at most), or an error."""
    ids = tuple(i.strip() for i in params.get("service_request_id", "").split(",") if i.strip())
    try:
        page = int(params.get("page", "1"))
        page_size = int(params.get("page_size", str(DEFAULT_LIMIT)))
    except ValueError:
        return "page and page_size must be whole numbers"
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= DEFAULT_LIMIT:
        return f"page must be between 1 and {MAX_PAGE} and page_size between 1 and {DEFAULT_LIMIT}"
    if ids:
        return Query(ids=ids[:DEFAULT_LIMIT], page=page, page_size=page_size)
    status = params.get("status") or None
    if status not in (None, "open", "closed"):
        return "status must be open or closed"
    try:
        start = _moment(params.get("start_date"))
        end = _moment(params.get("end_date"))
    except ValueError:
        return "start_date and end_date must be w3c date-times (e.g. 2026-11-23T09:15:00+08:00)"
    if start and end and end - start > MAX_SPAN:
        return "start_date and end_date may be at most 90 days apart"
    if start and end and end < start:
        return "end_date is before start_date"
    end = end or (start + MAX_SPAN if start else now)
    start = start or end - MAX_SPAN
    return Query(service_code=params.get("service_code") or None, start=start, end=end, status=status,
                 page=page, page_size=page_size)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time zone is required")
    return moment


def georeport_status(state: str | None) -> str:
    return "closed" if state in CLOSED else "open"


def render(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One request as GeoReport v2 prints it. No phone, e-mail or name is stored, so none is echoed."""
    holder = row.get("owner_unit") if row.get("owner") in ("GRID", "COMMUNITY", "STREET") else row.get("owner")
    return {
        "service_request_id": row["service_request_id"], "status": georeport_status(row.get("state")),
        "status_notes": row.get("notes") or PUBLIC_NOTES[CaseEventKind.CREATED],
        "service_name": row["service_name"], "service_code": row["service_code"],
        "description": row.get("description"),
        "agency_responsible": names.get(holder, holder) if holder else None,
        "service_notice": None,
        "requested_datetime": _iso(row["requested_at"]),
        "updated_datetime": _iso(row.get("updated_at") or row["requested_at"]),
        "expected_datetime": _iso(row.get("expected_at")),
        "address": row.get("address"), "address_id": None, "zipcode": None,
        "lat": row.get("lat"), "long": row.get("long"), "media_url": row.get("media_url"),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
