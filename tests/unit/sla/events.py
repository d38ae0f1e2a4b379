"""Case events as the router would send them, for stage tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, Deadlines
from schemas.common import Level

LADDER = (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.SUPERVISION)
STATE = {CaseEventKind.DISPATCHED: CaseState.DISPATCHED, CaseEventKind.ACCEPTED: CaseState.ACCEPTED,
         CaseEventKind.RESOLVED: CaseState.RESOLVED, CaseEventKind.CLOSED: CaseState.CLOSED,
         CaseEventKind.SUSPENDED: CaseState.SUSPENDED, CaseEventKind.RESUMED: CaseState.ACCEPTED,
         CaseEventKind.EXTENDED: CaseState.ACCEPTED, CaseEventKind.ESCALATED: CaseState.ESCALATED,
         CaseEventKind.REOPENED: CaseState.REOPENED, CaseEventKind.RETURNED: CaseState.RETURNED}


class Case:
    """Emits a case's events with gapless seq, like the router's record."""

    def __init__(self, case_id: str = "C-1", *, accept: str | None = "2h", handle: str | None = "3wd",
                 clock: str = "working", level: Level = Level.GRID, owner: str = "GRID",
                 ladder: tuple[Level, ...] = LADDER, rung_limits: dict[Level, str] | None = None) -> None:
        self.case_id, self.seq = case_id, 0
        self.deadlines = Deadlines(accept_within=accept, handle_within=handle, clock=clock, escalation=ladder,
                                   rung_limits=rung_limits or {})
        self.assignment = Assignment(owner=owner, owner_unit="G-1" if owner == "GRID" else None, level=level,
                                     grid_id="G-1", community_id="CM-1", street_id="ST-1")

    def event(self, kind: CaseEventKind, at: datetime, **extra: Any) -> CaseEvent:
        self.seq += 1
        if "level" in extra:
            self.assignment = self.assignment.model_copy(update={"level": extra.pop("level"), "owner": "STREET"})
        return CaseEvent(event_id=f"{self.case_id}-{self.seq}", case_id=self.case_id, kind=kind,
                         state=STATE.get(kind, CaseState.ACCEPTED), seq=self.seq, at=at, actor="router",
                         assignment=self.assignment, deadlines=self.deadlines, **extra)
