"""The case record the router owns, and how a transition becomes a `case.events.v1` fact."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, Deadlines
from schemas.common import Channel, GeoPoint, Urgency
from services.router.domain.lifecycle import CaseView


def case_id_for(incident_id: str) -> str:
    """Derived from the incident id: re-processing an incident can never open a second case."""
    return f"C-{incident_id}"


def event_id_for(case_id: str, seq: int) -> str:
    """Stable per (case, seq): a re-published outbox row keeps its ce_id."""
    return "CE-" + hashlib.blake2b(f"{case_id}#{seq}".encode(), digest_size=10).hexdigest()


@dataclass
class Case:
    case_id: str
    incident_id: str
    channel: Channel
    state: CaseState
    text: str
    urgency: str
    citizen: bool
    opened_at: datetime
    updated_at: datetime
    seq: int = 0
    assignment: Assignment | None = None
    deadlines: Deadlines | None = None
    list_version: str | None = None
    model_version: str | None = None  # classifier model that decided (beside the list version)
    grid_worker: str | None = None
    lon: float | None = None
    lat: float | None = None
    returns: int = 0
    candidates: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    explanation: dict[str, Any] | None = None
    state_before_suspension: CaseState | None = None
    requested_extension_hours: int | None = None  # a pending 申请延期
    reporters: list[dict[str, Any]] = field(default_factory=list)
    merged_count: int = 0
    closed_at: datetime | None = None

    def view(self) -> CaseView:
        a = self.assignment
        return CaseView(
            state=self.state, owner=a.owner if a else None, owner_unit=a.owner_unit if a else None,
            grid_id=a.grid_id if a else None, grid_worker=self.grid_worker, returns=self.returns,
            has_next_candidate=any(c not in self.tried for c in self.candidates),
            citizen_reported=self.citizen, state_before_suspension=self.state_before_suspension,
            extension_requested=self.requested_extension_hours is not None,
        )

    def record(
        self, kind: CaseEventKind, state: CaseState, *, at: datetime, actor: str, reason: str | None = None,
        **extra: Any,
    ) -> CaseEvent:
        """Apply a transition to the record and return the event that states it."""
        previous = self.state
        self.seq += 1
        if state is CaseState.SUSPENDED and previous is not CaseState.SUSPENDED:
            self.state_before_suspension = previous
        if kind is CaseEventKind.EXTENDED:
            self.requested_extension_hours = None
        self.state = state
        self.updated_at = at
        if state in (CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED):
            self.closed_at = at
        return CaseEvent(
            event_id=event_id_for(self.case_id, self.seq), case_id=self.case_id, kind=kind, state=state,
            previous_state=previous, seq=self.seq, at=at, actor=actor, reason=reason,
            list_version=self.list_version, model_version=self.model_version, channel=self.channel,
            incident_id=self.incident_id,
            urgency=Urgency(self.urgency),
            assignment=self.assignment, deadlines=self.deadlines,
            point=GeoPoint(lon=self.lon, lat=self.lat) if self.lon is not None and self.lat is not None else None,
            **extra,
        )
