"""What the timer decides when a clock passes one of a stage's warning points or its deadline."""

from __future__ import annotations

from datetime import datetime

from schemas.sla import SlaEventKind, SlaStage
from services.sla.domain.deadlines import CaseClocks, Change, Deadline, DeadlineState, Rules
from services.sla.domain.escalation import document_for, next_rung

FIELDS_TICK_WRITES = ("state", "warn_at", "warned", "warnings", "breached")
"""The only fields of a stage a tick changes (the timer writes exactly these back, a batch per UPDATE)."""
CASE_FIELDS_TICK_WRITES = ("escalations",)
"""… and of its case."""


def tick(case: CaseClocks, d: Deadline, now: datetime, rules: Rules) -> Change:
    """预警 once per warning share as it is reached; 超期 overdue at the deadline, then
    `escalation_decided` to the next rung with its document — or, at the top of the ladder (and for
    verification, which has no ladder), overdue alone."""
    change = Change()
    if d.state is not DeadlineState.RUNNING or d.due_at is None:
        return change
    version = rules.calendar.version
    while not d.warned and d.warn_at is not None and d.warn_at <= now < d.due_at:  # past due: no warnings
        share = rules.warn_shares[d.warnings]
        change.events.append(d.event(SlaEventKind.WARNED, d.warn_at, version, suffix=f"-{int(share * 100)}",
                                     warn_share=share, reason=f"{int(share * 100)}% of {d.limit} used"))
        d.warnings += 1
        d.schedule_warning(d.warn_at, rules)
        change.touch(d)
    if now >= d.due_at:
        d.state, d.breached, d.warned, d.warn_at = DeadlineState.OVERDUE, True, True, None
        to_level = next_rung(d.level, d.ladder)
        if to_level is None:
            why = ("verification overdue: reported, no ladder for verification" if d.stage is SlaStage.VERIFY
                   else "top of the ladder: overdue reported, no further escalation")
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version, reason=why))
        else:
            case.escalations += 1
            document = document_for(case.escalations, to_level)
            change.events.append(d.event(SlaEventKind.OVERDUE, d.due_at, version, reason=f"{d.limit} passed"))
            change.events.append(d.event(
                SlaEventKind.ESCALATION_DECIDED, now, version, to_level=to_level, document=document.value,
                reason=f"{d.stage.value} overdue: escalation #{case.escalations} to {to_level.value}",
            ))
        change.touch(d)
    return change
