"""What the timer decides when a clock passes a stage's warning point or its deadline."""

from __future__ import annotations

from datetime import datetime

from schemas.sla import SlaEventKind
from services.sla.domain.deadlines import CaseClocks, Change, Deadline, DeadlineState, Rules
from services.sla.domain.escalation import document_for, next_rung


def tick(case: CaseClocks, d: Deadline, now: datetime, rules: Rules) -> Change:
    """预警 warned once at the warning point; 超期 overdue at the deadline, then `escalation_decided` to
    the next rung with its document — or, at the top of the ladder, overdue alone."""
    change = Change()
    if d.state is not DeadlineState.RUNNING or d.due_at is None:
        return change
    version = rules.calendar.version
    if now >= d.due_at:
        d.state, d.warned = DeadlineState.OVERDUE, True
        to_level = next_rung(d.level, d.ladder)
        if to_level is None:
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version,
                                         reason="top of the ladder: overdue reported, no further escalation"))
        else:
            case.escalations += 1
            document = document_for(case.escalations, to_level)
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version, reason=f"{d.limit} passed"))
            change.events.append(d.event(
                SlaEventKind.ESCALATION_DECIDED, now, version, to_level=to_level, document=document.value,
                reason=f"{d.stage.value} overdue: escalation #{case.escalations} to {to_level.value}",
            ))
        change.touch(d)
    elif d.warn_at is not None and not d.warned and now >= d.warn_at:
        d.warned = True
        change.events.append(d.event(SlaEventKind.WARNED, d.warn_at, version,
                                     reason=f"{int(rules.warn_share * 100)}% of {d.limit} used"))
        change.touch(d)
    return change
