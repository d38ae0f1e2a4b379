"""How case events on `case.events.v1` start, stop, pause and move a case's stage clocks.

dispatched / escalated → a new 签收 ACCEPT stage for the current owner; accepted → ACCEPT done, 办结 HANDLE
starts; resolved / closed / merged / rejected → the open stage finishes; returned / manual / arbitration →
the owner's clock ends without finishing; suspended → pause; resumed → run on with the time left;
extended → the HANDLE deadline moves by `extension_hours` (on the stage's clock); reopened → new HANDLE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.case import CaseEvent, CaseEventKind
from schemas.common import Urgency
from schemas.sla import SlaEventKind, SlaStage
from services.sla.domain.deadlines import CaseClocks, Change, Deadline, DeadlineState, Rules
from services.sla.domain.durations import for_urgency, parse_duration

_START_ACCEPT = {CaseEventKind.DISPATCHED, CaseEventKind.ESCALATED}
_FINISH = {CaseEventKind.RESOLVED, CaseEventKind.CLOSED, CaseEventKind.MERGED, CaseEventKind.REJECTED}
_END = {CaseEventKind.RETURNED, CaseEventKind.QUEUED_MANUAL, CaseEventKind.ARBITRATION_REQUESTED}


def on_case_event(case: CaseClocks, event: CaseEvent, rules: Rules, urgency: Urgency = Urgency.NORMAL) -> Change:
    """Apply one case event; raises ValueError when its limits cannot be read (a bad record)."""
    change = Change()
    if event.seq <= case.last_seq:
        change.stale = True  # delivered again, or overtaken: the case has moved on
        return change
    case.last_seq = event.seq
    kind, at = event.kind, event.at
    if kind in _START_ACCEPT:
        _end(case, at, change)
        _start(case, SlaStage.ACCEPT, event, rules, urgency, change)
    elif kind is CaseEventKind.ACCEPTED:
        _finish(case, at, rules, change)
        _start(case, SlaStage.HANDLE, event, rules, urgency, change)
    elif kind is CaseEventKind.REOPENED:
        _end(case, at, change)
        _start(case, SlaStage.HANDLE, event, rules, urgency, change)
    elif kind in _FINISH:
        _finish(case, at, rules, change)
    elif kind in _END:
        _end(case, at, change)
    elif kind is CaseEventKind.SUSPENDED:
        _pause(case, at, rules, change)
    elif kind is CaseEventKind.RESUMED:
        _resume(case, at, rules, change)
    elif kind is CaseEventKind.EXTENDED:
        _extend(case, at, timedelta(hours=event.extension_hours or 0), rules, change)
    return change


def _start(case: CaseClocks, stage: SlaStage, event: CaseEvent, rules: Rules, urgency: Urgency,
           change: Change) -> None:
    limits = event.deadlines
    text = None if limits is None else (limits.accept_within if stage is SlaStage.ACCEPT else limits.handle_within)
    if limits is None or text is None:
        return  # no limit in the list for this stage: nothing to time
    duration = for_urgency(parse_duration(text, limits.clock), urgency)
    due = rules.calendar.add(event.at, duration)
    a = event.assignment
    d = Deadline(
        case_id=case.case_id, gen=case.next_gen, stage=stage, limit=str(duration).split(" ")[0],
        working=duration.working, started_at=event.at,
        allowed=rules.calendar.elapsed(event.at, due, duration.working), due_at=due, warn_at=None,
        owner=a.owner if a else None, owner_unit=a.owner_unit if a else None, level=a.level if a else None,
        street_id=a.street_id if a else None, ladder=limits.escalation,
    )
    d.schedule_warning(event.at, rules)
    case.next_gen += 1
    case.open = d
    change.touch(d)
    why = f"{stage.value} within {d.limit}" + (f" ({urgency.value}: natural clock)" if urgency != "normal" else "")
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, event.at, rules.calendar.version, reason=why))


def _finish(case: CaseClocks, at: datetime, rules: Rules, change: Change) -> None:
    """The stage's work is done: `met` when in time; otherwise `late` (and `overdue` if the timer had
    not reported it yet — same id as the timer's, so never twice)."""
    d = case.open
    if d is None:
        return
    version = rules.calendar.version
    in_time = d.state is DeadlineState.PAUSED or (
        d.state is DeadlineState.RUNNING and d.due_at is not None and at <= d.due_at)
    if in_time:
        d.state = DeadlineState.MET
        change.events.append(d.event(SlaEventKind.MET, at, version, reason=f"{d.stage.value} within {d.limit}"))
    else:
        if d.state is DeadlineState.RUNNING and d.due_at is not None:
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version,
                                         reason="finished after the deadline"))
        d.state = DeadlineState.LATE
    d.ended_at, case.open = at, None
    change.touch(d)


def _end(case: CaseClocks, at: datetime, change: Change) -> None:
    d = case.open
    if d is None:
        return
    d.state, d.ended_at, case.open = DeadlineState.SUPERSEDED, at, None
    change.touch(d)


def _pause(case: CaseClocks, at: datetime, rules: Rules, change: Change) -> None:
    d = case.open
    if d is None or d.state is not DeadlineState.RUNNING or d.due_at is None or at >= d.due_at:
        return  # nothing running, or already overdue: suspension does not undo that
    d.remaining = rules.calendar.elapsed(at, d.due_at, d.working)
    d.state, d.due_at, d.warn_at, d.rev = DeadlineState.PAUSED, None, None, d.rev + 1
    change.touch(d)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, at, rules.calendar.version,
                                 reason=f"suspended: clock paused with {_fmt(d.remaining)} left"))


def _resume(case: CaseClocks, at: datetime, rules: Rules, change: Change) -> None:
    d = case.open
    if d is None or d.state is not DeadlineState.PAUSED or d.remaining is None:
        return
    d.due_at = rules.calendar.advance(at, d.remaining, d.working)
    d.state, d.remaining, d.rev = DeadlineState.RUNNING, None, d.rev + 1
    d.schedule_warning(at, rules)
    change.touch(d)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, at, rules.calendar.version,
                                 reason="resumed with the time that was left"))


def _extend(case: CaseClocks, at: datetime, extra: timedelta, rules: Rules, change: Change) -> None:
    d = case.open
    if d is None or d.stage is not SlaStage.HANDLE or extra <= timedelta(0):
        return
    d.allowed += extra
    d.rev += 1
    if d.state is DeadlineState.PAUSED and d.remaining is not None:
        d.remaining += extra
    elif d.due_at is not None:
        d.due_at = rules.calendar.advance(d.due_at, extra, d.working)
        d.state = DeadlineState.RUNNING  # an overdue stage runs again; if still past due the timer says so
        d.schedule_warning(at, rules)
    change.touch(d)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, at, rules.calendar.version,
                                 reason=f"extended by {_fmt(extra)} (延期)"))


def _fmt(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"
