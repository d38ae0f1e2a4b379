"""A case's clocks: one open stage at a time (签收 accept, then 办结 handle), kept durably by sla.

`Deadline` is one stage's clock; `CaseClocks` is what sla remembers about a case between events.
Every (re)setting of a deadline bumps `rev`, and SLA event ids are built from (case, gen, rev, kind),
so replaying the same decision after a crash produces the same ids and the outbox drops the copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from schemas.common import Level
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.sla.domain.calendar import Calendar


class DeadlineState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # 挂起 suspended: the remaining time is kept
    OVERDUE = "overdue"  # 超期, still open: shown by GET /v1/sla/overdue
    MET = "met"  # finished within the limit
    LATE = "late"  # finished after the deadline
    SUPERSEDED = "superseded"  # ended without finishing: returned, re-dispatched, escalated


OPEN_STATES = frozenset({DeadlineState.RUNNING, DeadlineState.PAUSED, DeadlineState.OVERDUE})


@dataclass(frozen=True)
class Rules:
    """What the arithmetic needs besides the event: the calendar and when to warn (预警)."""

    calendar: Calendar
    warn_share: float = 0.8  # warn when this share of the stage's time is used


@dataclass
class Deadline:
    case_id: str
    gen: int  # stage number within the case: 1, 2, 3 …
    stage: SlaStage
    limit: str  # as applied, e.g. "2h" or "3wd"
    working: bool  # counts working time (calendar) rather than natural time
    started_at: datetime
    allowed: timedelta  # the stage's whole time on its clock; grows with extensions
    due_at: datetime | None
    warn_at: datetime | None
    owner: str | None = None  # department code, or GRID / COMMUNITY / STREET
    owner_unit: str | None = None  # the grid / community / street id for locational owners
    level: Level | None = None
    street_id: str | None = None
    ladder: tuple[Level, ...] = ()
    state: DeadlineState = DeadlineState.RUNNING
    rev: int = 1
    remaining: timedelta | None = None  # while paused
    warned: bool = False
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def event(self, kind: SlaEventKind, at: datetime, version: str, **extra: Any) -> SlaEvent:
        """An SLA event about this stage with its stable id."""
        return SlaEvent(
            event_id=f"SLA-{self.case_id}-{self.gen}.{self.rev}-{kind.value}", case_id=self.case_id, kind=kind,
            stage=self.stage, deadline=self.due_at, at=at, owner=self.owner, level=self.level,
            calendar_version=version, **extra,
        )

    def schedule_warning(self, now: datetime, rules: Rules) -> None:
        """Warn when `warn_share` of `allowed` is used, i.e. when (1 - share) of it is left."""
        if self.warned or self.due_at is None:
            self.warn_at = None
            return
        left = rules.calendar.elapsed(now, self.due_at, self.working)
        lead = left - self.allowed * (1 - rules.warn_share)
        self.warn_at = rules.calendar.advance(now, lead, self.working) if lead > timedelta(0) else now


@dataclass
class CaseClocks:
    case_id: str
    last_seq: int = 0  # case events at or below it are stale (already applied)
    escalations: int = 0  # escalation decisions so far: the first brings a warning letter, then …
    next_gen: int = 1
    open: Deadline | None = None


@dataclass
class Change:
    """What one case event or one timer tick did: events to publish, deadlines to save."""

    events: list[SlaEvent] = field(default_factory=list)
    touched: list[Deadline] = field(default_factory=list)
    stale: bool = False

    def touch(self, deadline: Deadline) -> None:
        if all(d is not deadline for d in self.touched):
            self.touched.append(deadline)
