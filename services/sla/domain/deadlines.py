"""A case's clocks: one open stage at a time (签收 accept, 办结 handle, 核查 verify), kept durably by sla.

`Deadline` is one stage's clock; `CaseClocks` is what sla remembers about a case between events.
Every (re)setting of a deadline bumps `rev`, and SLA event ids are built from (case, gen, rev, kind),
so replaying the same decision after a crash produces the same ids and the outbox drops the copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from schemas.common import Level
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.sla.domain.calendar import Calendar


class DeadlineState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # 挂起 suspended, or an extension pending: the remaining time is kept
    OVERDUE = "overdue"  # 超期, still open: shown by GET /v1/sla/overdue
    MET = "met"  # finished within the limit
    LATE = "late"  # finished after the deadline
    SUPERSEDED = "superseded"  # ended without finishing: returned, re-dispatched, escalated, rejected, merged


OPEN_STATES = frozenset({DeadlineState.RUNNING, DeadlineState.PAUSED, DeadlineState.OVERDUE})

DEFAULT_WARN_SHARES = (0.5, 0.8)
DEFAULT_RUNG_LIMITS: Mapping[Level, str] = {
    Level.COMMUNITY: "1d", Level.STREET: "2d", Level.DISTRICT: "3wd", Level.SUPERVISION: "5wd",
}
"""After an escalation the handle stage runs on the rung's own limit, not the item's again."""


@dataclass(frozen=True)
class Rules:
    """What the arithmetic needs besides the event: the calendar, when to warn (预警), each rung's limit
    and how long verification (核查) may take."""

    calendar: Calendar
    warn_shares: tuple[float, ...] = DEFAULT_WARN_SHARES  # warn as each share of the stage's time is used
    rung_limits: Mapping[Level, str] = field(default_factory=lambda: dict(DEFAULT_RUNG_LIMITS))
    verify_within: str = "1d"


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
    warned: bool = False  # every warning share has fired
    ended_at: datetime | None = None
    warnings: int = 0  # warning shares fired so far
    breached: bool = False  # passed its deadline once: an extension moves the date, the breach stands
    rung: int = 0  # the case's escalations when the stage started
    provisional: bool = False  # due date reaches into a year without official calendar data
    community_id: str | None = None
    run_from: datetime | None = None  # the clock last (re)started here …
    run_for: timedelta | None = None  # … with this much time to run: due_at = calendar.advance(both)
    assisting: tuple[str, ...] = ()  # 协办 departments of the lead's case: found by them, timed on the lead

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def on_overdue_list(self) -> bool:
        """Breached and open, or open on a rung the case was escalated to (it stays on the list)."""
        return self.state is DeadlineState.OVERDUE or (self.is_open and self.rung > 0)

    def event(self, kind: SlaEventKind, at: datetime, version: str, suffix: str = "", **extra: Any) -> SlaEvent:
        """An SLA event about this stage with its stable id."""
        return SlaEvent(
            event_id=f"SLA-{self.case_id}-{self.gen}.{self.rev}-{kind.value}{suffix}", case_id=self.case_id,
            kind=kind, stage=self.stage, deadline=self.due_at, at=at, owner=self.owner, level=self.level,
            calendar_version=version, rung=self.rung, provisional=self.provisional, **extra,
        )

    def schedule_warning(self, now: datetime, rules: Rules) -> None:
        """The next warning: when its share of `allowed` is used, i.e. when (1 - share) of it is left."""
        shares = rules.warn_shares
        if self.warnings >= len(shares) or self.due_at is None:
            self.warn_at, self.warned = None, self.warnings >= len(shares)
            return
        left = rules.calendar.elapsed(now, self.due_at, self.working)
        lead = left - self.allowed * (1 - shares[self.warnings])
        self.warn_at = rules.calendar.advance(now, lead, self.working) if lead > timedelta(0) else now


@dataclass
class CaseClocks:
    case_id: str
    last_seq: int = 0  # case events at or below it are stale (already applied)
    escalations: int = 0  # escalation decisions so far: the first brings a warning letter, then …
    next_gen: int = 1
    open: Deadline | None = None
    suspended: bool = False  # 挂起: the clock is paused until resumed
    extension_pending: bool = False  # 申请延期 not yet approved: the clock is paused meanwhile
    traceparent: str | None = None  # of the last case event applied: the timer's events continue its trace
    tracestate: str | None = None


@dataclass
class Change:
    """What one case event or one timer tick did: events to publish, deadlines to save."""

    events: list[SlaEvent] = field(default_factory=list)
    touched: list[Deadline] = field(default_factory=list)
    stale: bool = False

    def touch(self, deadline: Deadline) -> None:
        if all(d is not deadline for d in self.touched):
            self.touched.append(deadline)
