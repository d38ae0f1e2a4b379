"""The console's read model of a case, folded from case.events.v1 and sla.events.v1.

Pure: a row (or None) and an event in, the new row out. Per-case order comes from the topic key; the
`seq` guard makes redelivered or stale case events no-ops; SLA events are de-duplicated by the inbox."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from schemas.case import CaseEvent, CaseEventKind, CaseState
from schemas.sla import SlaEvent, SlaEventKind

CLOSED_STATES = frozenset({CaseState.CLOSED, CaseState.MERGED, CaseState.REJECTED})


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    seq: int
    state: str
    opened_at: datetime
    updated_at: datetime
    channel: str | None = None
    urgency: str = "normal"
    item_code: str | None = None
    item_name: str | None = None
    owner: str | None = None
    owner_unit: str | None = None
    level: str | None = None
    grid_id: str | None = None
    community_id: str | None = None
    street_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    closed_at: datetime | None = None
    compound: str | None = None  # the residential compound (小区) the router located it by
    assisting: tuple[str, ...] = ()  # 协办 departments of the lead's case (they see it; the lead acts)


@dataclass(frozen=True)
class Clock:
    """What sla said about the case's open stage (kept apart: the two topics are not ordered together)."""

    case_id: str
    lateness: str = "on_time"  # on_time | warned | overdue
    due_at: datetime | None = None
    rung: str | None = None  # the highest level an escalation decision reached
    escalations: int = 0


def apply_case_event(row: CaseRow | None, event: CaseEvent) -> CaseRow | None:
    """The row after `event`; None when the event is stale (seq not newer) and nothing changes."""
    if row is not None and event.seq <= row.seq:
        return None
    if row is None:
        row = CaseRow(case_id=event.case_id, seq=0, state=event.state.value, opened_at=event.at, updated_at=event.at)
    changes: dict[str, object] = {"seq": event.seq, "state": event.state.value, "updated_at": event.at}
    if event.kind is CaseEventKind.CREATED:
        changes |= {"opened_at": event.at, "channel": event.channel.value if event.channel else None}
    if event.kind is not CaseEventKind.ACTION_REFUSED:
        changes["urgency"] = event.urgency.value
    if event.point is not None:
        changes |= {"lon": event.point.lon, "lat": event.point.lat}
    located = (event.explanation or {}).get("location")
    if isinstance(located, dict):  # where the router located it, even when nobody holds the case yet
        changes |= {k: located.get(k) or getattr(row, k) for k in ("grid_id", "community_id", "street_id")}
        by_compound = located.get("method") == "compound" and located.get("detail")
        changes["compound"] = str(located["detail"]) if by_compound else None  # the router's latest place
    if event.assignment is not None:
        a = event.assignment
        changes |= {"owner": a.owner, "owner_unit": a.owner_unit, "level": a.level.value,
                    "item_code": a.item_code or row.item_code, "item_name": a.item_name or row.item_name,
                    "grid_id": a.grid_id or row.grid_id, "community_id": a.community_id or row.community_id,
                    "street_id": a.street_id or row.street_id, "assisting": tuple(a.assisting)}
    if event.state in CLOSED_STATES:
        changes["closed_at"] = event.at
    elif event.kind is CaseEventKind.REOPENED:
        changes["closed_at"] = None
    return replace(row, **changes)  # type: ignore[arg-type]


LEVEL_ORDER = ("grid", "community", "street", "district", "supervision")


def apply_sla_event(row: Clock | None, event: SlaEvent) -> Clock:
    """Lateness of the open stage and the escalation rung reached (the caller drops redeliveries)."""
    row = row or Clock(case_id=event.case_id)
    if event.kind is SlaEventKind.DEADLINE_SET:
        return replace(row, due_at=event.deadline, lateness="on_time")
    if event.kind is SlaEventKind.WARNED and row.lateness == "on_time":
        return replace(row, lateness="warned", due_at=event.deadline or row.due_at)
    if event.kind is SlaEventKind.OVERDUE:
        return replace(row, lateness="overdue", due_at=event.deadline or row.due_at)
    if event.kind is SlaEventKind.ESCALATION_DECIDED and event.to_level is not None:
        reached = event.to_level.value
        if row.rung is None or LEVEL_ORDER.index(reached) > LEVEL_ORDER.index(row.rung):
            return replace(row, rung=reached, escalations=row.escalations + 1, lateness="overdue")
        return replace(row, lateness="overdue")
    if event.kind is SlaEventKind.MET:
        return replace(row, lateness="on_time", due_at=None)
    return row
