"""How case events on `case.events.v1` start, stop, pause and move a case's stage clocks.

dispatched → a 签收 ACCEPT stage for the owner; accepted → ACCEPT done, 办结 HANDLE starts (a reopened
case being accepted again changes nothing); resolved → HANDLE done, 核查 VERIFY starts for the grid;
verified / closed → the open stage finishes; reopened → VERIFY done (a failed check), a full HANDLE
again; escalated → a new holder gets an ACCEPT stage, a holder that keeps the case (a department
under 督办) continues the stage it was in — either way on the rung's own limit for handling;
returned / manual / arbitration / merged / rejected / answered → the owner's clock ends without
finishing (never `met`); suspended, or an extension requested → pause (both must be lifted to run
on); extended → the HANDLE deadline moves by `extension_hours` (a breach that happened stays).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.case import CaseEvent, CaseEventKind
from schemas.common import Level, Urgency
from schemas.sla import SlaEventKind, SlaStage
from services.sla.domain.deadlines import CaseClocks, Change, Deadline, DeadlineState, Rules
from services.sla.domain.durations import for_urgency, parse_duration

_END = {CaseEventKind.RETURNED, CaseEventKind.QUEUED_MANUAL, CaseEventKind.ARBITRATION_REQUESTED,
        CaseEventKind.MERGED, CaseEventKind.REJECTED, CaseEventKind.ANSWERED}
_FINISH = {CaseEventKind.VERIFIED, CaseEventKind.CLOSED}


def on_case_event(case: CaseClocks, event: CaseEvent, rules: Rules, urgency: Urgency = Urgency.NORMAL) -> Change:
    """Apply one case event; raises ValueError when its limits cannot be read (a bad record)."""
    change = Change()
    if event.seq <= case.last_seq:
        change.stale = True  # delivered again, or overtaken: the case has moved on
        return change
    case.last_seq = event.seq
    kind, at, d = event.kind, event.at, case.open
    if kind is CaseEventKind.DISPATCHED:
        case.suspended = case.extension_pending = False
        _end(case, at, change)
        _start(case, SlaStage.ACCEPT, event, rules, urgency, change)
    elif kind is CaseEventKind.ESCALATED:
        a = event.assignment
        keeps = d is not None and a is not None and (a.owner, a.owner_unit) == (d.owner, d.owner_unit)
        stage = d.stage if d is not None and keeps else SlaStage.ACCEPT
        _end(case, at, change)
        _start(case, stage, event, rules, urgency, change)
    elif kind is CaseEventKind.ACCEPTED:
        if d is None or d.stage is SlaStage.ACCEPT:
            _finish(case, at, change, rules)
            _start(case, SlaStage.HANDLE, event, rules, urgency, change)
    elif kind is CaseEventKind.RESOLVED:
        _finish(case, at, change, rules)
        _start(case, SlaStage.VERIFY, event, rules, urgency, change)
    elif kind is CaseEventKind.REOPENED:
        case.extension_pending = False
        if d is not None and d.stage is SlaStage.VERIFY:
            _finish(case, at, change, rules)
        else:
            _end(case, at, change)
        _start(case, SlaStage.HANDLE, event, rules, urgency, change)
    elif kind in _FINISH:
        _finish(case, at, change, rules)
    elif kind in _END:
        _end(case, at, change)
    elif kind is CaseEventKind.SUSPENDED:
        case.suspended = True
        _pause(case, at, rules, change, "suspended")
    elif kind is CaseEventKind.EXTENSION_REQUESTED:
        case.extension_pending = True
        _pause(case, at, rules, change, "extension requested")
    elif kind is CaseEventKind.RESUMED:
        case.suspended = False
        if not case.extension_pending:
            _resume(case, at, rules, change)
    elif kind is CaseEventKind.EXTENDED:
        case.extension_pending = False
        _extend(case, at, timedelta(hours=event.extension_hours or 0), rules, change)
        if not case.suspended:
            _resume(case, at, rules, change)
    return change


def _limit_text(stage: SlaStage, event: CaseEvent, rules: Rules, rung: int) -> str | None:
    limits = event.deadlines
    if stage is SlaStage.VERIFY:
        return rules.verify_within
    if limits is None:
        return None
    if stage is SlaStage.ACCEPT:
        return limits.accept_within
    level = event.assignment.level if event.assignment else None
    if rung > 0 and level is not None:  # each rung of the ladder has its own limit: the item's, else the table's
        return limits.rung_limits.get(level) or rules.rung_limits.get(level) or limits.handle_within
    return limits.handle_within


def _start(case: CaseClocks, stage: SlaStage, event: CaseEvent, rules: Rules, urgency: Urgency,
           change: Change) -> None:
    rung = case.escalations
    text = _limit_text(stage, event, rules, rung)
    if text is None:
        return  # no limit in the list for this stage: nothing to time
    clock = event.deadlines.clock if event.deadlines else "natural"
    duration = for_urgency(parse_duration(text, clock), urgency)
    due = rules.calendar.add(event.at, duration)
    a = event.assignment
    owner, unit, level = (a.owner, a.owner_unit, a.level) if a else (None, None, None)
    ladder = event.deadlines.escalation if event.deadlines else ()
    assisting = tuple(a.assisting) if a else ()
    if stage is SlaStage.VERIFY:  # 核查 by the grid the case is in, or the centre
        grid = a.grid_id if a else None
        owner, unit, level = ("GRID", grid, Level.GRID) if grid else ("CENTER", None, Level.DISTRICT)
        ladder, assisting = (), ()
    d = Deadline(
        case_id=case.case_id, gen=case.next_gen, stage=stage, limit=str(duration).split(" ")[0],
        working=duration.working, started_at=event.at,
        allowed=rules.calendar.elapsed(event.at, due, duration.working), due_at=due, warn_at=None,
        owner=owner, owner_unit=unit, level=level, street_id=a.street_id if a else None, ladder=ladder,
        rung=rung, community_id=a.community_id if a else None, assisting=assisting,
        provisional=duration.working and not rules.calendar.covers_span(event.at, due),
    )
    d.run_from, d.run_for = event.at, d.allowed
    d.schedule_warning(event.at, rules)
    case.next_gen += 1
    case.open = d
    change.touch(d)
    why = f"{stage.value} within {d.limit}" + (f" ({urgency.value}: natural clock)" if urgency != "normal" else "")
    if rung:
        why += f" (rung {rung}: {level.value if level else '?'})"
    if d.provisional:
        why += " (provisional: the calendar has no official data for a year it reaches)"
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, event.at, rules.calendar.version, reason=why))


def _finish(case: CaseClocks, at: datetime, change: Change, rules: Rules) -> None:
    """The stage's work is done: `met` when in time; otherwise `late` (and `overdue` if the timer had
    not reported it yet — same id as the timer's, so never twice)."""
    d = case.open
    if d is None:
        return
    version = rules.calendar.version
    if d.state is DeadlineState.PAUSED:
        in_time = not d.breached and d.remaining is not None and d.remaining > timedelta(0)
    else:
        in_time = d.state is DeadlineState.RUNNING and not d.breached and d.due_at is not None and at <= d.due_at
    if in_time:
        d.state = DeadlineState.MET
        change.events.append(d.event(SlaEventKind.MET, at, version, reason=f"{d.stage.value} within {d.limit}"))
    else:
        if d.state is DeadlineState.RUNNING and not d.breached and d.due_at is not None:
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version,
                                         reason="finished after the deadline"))
        d.state, d.breached = DeadlineState.LATE, True
    d.ended_at, case.open = at, None
    change.touch(d)


def _end(case: CaseClocks, at: datetime, change: Change) -> None:
    d = case.open
    if d is None:
        return
    d.state, d.ended_at, case.open = DeadlineState.SUPERSEDED, at, None
    change.touch(d)


def _pause(case: CaseClocks, at: datetime, rules: Rules, change: Change, why: str) -> None:
    d = case.open
    if d is None or d.state is not DeadlineState.RUNNING or d.due_at is None or at >= d.due_at:
        return  # nothing running, already paused, or already overdue: a pause does not undo that
    d.remaining = rules.calendar.elapsed(at, d.due_at, d.working)
    d.state, d.due_at, d.warn_at, d.rev = DeadlineState.PAUSED, None, None, d.rev + 1
    change.touch(d)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, at, rules.calendar.version,
                                 reason=f"{why}: clock paused with {_fmt(d.remaining)} left"))


def _resume(case: CaseClocks, at: datetime, rules: Rules, change: Change) -> None:
    d = case.open
    if d is None or d.state is not DeadlineState.PAUSED or d.remaining is None:
        return
    d.due_at = rules.calendar.advance(at, d.remaining, d.working)
    d.run_from, d.run_for = at, d.remaining
    d.state, d.remaining, d.rev = DeadlineState.RUNNING, None, d.rev + 1
    d.provisional = d.working and not rules.calendar.covers_span(at, d.due_at)
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
    why = f"extended by {_fmt(extra)} (延期)"
    if d.state is DeadlineState.PAUSED and d.remaining is not None:
        d.remaining += extra
    elif d.due_at is not None:
        d.due_at = rules.calendar.advance(d.due_at, extra, d.working)
        d.run_for = (d.run_for or timedelta(0)) + extra
        if d.breached:
            why += "; the stage was already overdue and stays so"
        else:
            d.schedule_warning(at, rules)
    change.touch(d)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, at, rules.calendar.version, reason=why))


def _fmt(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def recompute(d: Deadline, now: datetime, rules: Rules) -> Change:
    """A provisional deadline again on today's calendar (its year's official data has arrived): the same
    time to run from the same point, a new `deadline_set`. Paused stages are recomputed when resumed."""
    change = Change()
    if d.state is DeadlineState.PAUSED:
        d.provisional = False  # a pause keeps time to run, not a date: resuming uses the calendar of then
        change.touch(d)
        return change
    if d.state is not DeadlineState.RUNNING or d.run_from is None or d.run_for is None or d.due_at is None:
        return change
    due = rules.calendar.advance(d.run_from, d.run_for, d.working)
    d.provisional = d.working and not rules.calendar.covers_span(d.run_from, due)
    change.touch(d)
    if due == d.due_at:
        return change
    d.due_at, d.rev = due, d.rev + 1
    d.schedule_warning(now if now < due else due, rules)
    change.events.append(d.event(SlaEventKind.DEADLINE_SET, now, rules.calendar.version,
                                 reason=f"recomputed on calendar {rules.calendar.version}"
                                        + (" (still provisional)" if d.provisional else "")))
    return change
