"""Timer decisions: warn once, overdue at the deadline, escalate up the ladder with "两函一单"."""

from __future__ import annotations

from schemas.case import CaseEventKind as K
from schemas.common import Level
from schemas.sla import SlaEventKind as S
from services.sla.domain.calendar import Calendar
from services.sla.domain.deadlines import CaseClocks, Deadline, Rules
from services.sla.domain.escalation import Document, document_for, next_rung
from services.sla.domain.stages import on_case_event
from services.sla.domain.timers import tick
from tests.unit.sla.conftest import local
from tests.unit.sla.events import LADDER, Case


def started(calendar: Calendar, **kw: object) -> tuple[CaseClocks, Deadline, Rules]:
    clocks, rules = CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, Case(**kw).event(K.DISPATCHED, local("2026-03-10 11:00")), rules)  # type: ignore[arg-type]
    assert clocks.open is not None
    return clocks, clocks.open, rules


def test_warns_at_half_and_at_eighty_percent_of_working_time(calendar: Calendar) -> None:
    clocks, d, rules = started(calendar)  # 2 working hours from 11:00: due 14:30 (lunch 12:00-13:30)
    assert tick(clocks, d, local("2026-03-10 11:59"), rules).events == []
    [half] = tick(clocks, d, local("2026-03-10 12:00"), rules).events
    assert tick(clocks, d, local("2026-03-10 14:05"), rules).events == []
    [most] = tick(clocks, d, local("2026-03-10 14:06"), rules).events
    assert (half.kind, half.warn_share, most.kind, most.warn_share) == (S.WARNED, 0.5, S.WARNED, 0.8)
    assert tick(clocks, d, local("2026-03-10 14:10"), rules).events == []


def test_overdue_then_escalation_with_a_risk_warning_letter(calendar: Calendar) -> None:
    clocks, d, rules = started(calendar)
    events = tick(clocks, d, local("2026-03-10 14:30"), rules).events
    assert [e.kind for e in events] == [S.OVERDUE, S.ESCALATION_DECIDED]
    assert (events[1].to_level, events[1].document) == (Level.COMMUNITY, "risk_warning_letter")
    assert tick(clocks, d, local("2026-03-11 09:00"), rules).events == []  # never twice


def test_second_escalation_brings_an_accountability_letter(calendar: Calendar) -> None:
    clocks, d, rules = started(calendar, level=Level.COMMUNITY)
    clocks.escalations = 1
    events = tick(clocks, d, local("2026-03-11 09:00"), rules).events
    assert (events[1].to_level, events[1].document) == (Level.STREET, "accountability_letter")


def test_top_of_the_ladder_reports_overdue_without_escalating(calendar: Calendar) -> None:
    clocks, d, rules = started(calendar, level=Level.DISTRICT, ladder=(Level.STREET, Level.DISTRICT))
    [overdue] = tick(clocks, d, local("2026-03-11 09:00"), rules).events
    assert overdue.kind is S.OVERDUE and "top of the ladder" in (overdue.reason or "")
    assert clocks.escalations == 0


def test_event_ids_are_stable_for_the_same_decision(calendar: Calendar) -> None:
    ids = []
    for _ in range(2):
        clocks, d, rules = started(calendar)
        ids.append([e.event_id for e in tick(clocks, d, local("2026-03-11 09:00"), rules).events])
    assert ids[0] == ids[1] == ["SLA-C-1-1.1-overdue", "SLA-C-1-1.1-escalation_decided"]


def test_ladder_and_documents() -> None:
    assert next_rung(Level.GRID, LADDER) is Level.COMMUNITY
    assert next_rung(Level.STREET, (Level.STREET, Level.SUPERVISION)) is Level.SUPERVISION
    assert next_rung(Level.SUPERVISION, LADDER) is None
    assert next_rung(None, LADDER) is None
    assert document_for(1, Level.STREET) is Document.RISK_WARNING_LETTER
    assert document_for(2, Level.DISTRICT) is Document.ACCOUNTABILITY_LETTER
    assert document_for(3, Level.DISTRICT) is Document.ACCOUNTABILITY_LETTER
    assert document_for(1, Level.SUPERVISION) is Document.SUPERVISION_ORDER


def test_a_tick_changes_only_what_the_timer_writes_back(calendar: Calendar) -> None:
    """The timer writes a fired batch back column by column (one UPDATE): a tick that changed any other
    field of the stage or of the case would be lost."""
    from dataclasses import asdict, fields

    from services.sla.domain.timers import CASE_FIELDS_TICK_WRITES, FIELDS_TICK_WRITES

    for at in ("2026-03-10 12:00", "2026-03-10 14:06", "2026-03-10 14:30", "2026-03-11 09:00"):
        clocks, d, rules = started(calendar)
        before, case_before = asdict(d), {f.name: getattr(clocks, f.name) for f in fields(clocks) if f.name != "open"}
        assert tick(clocks, d, local(at), rules).events
        changed = {k for k, v in asdict(d).items() if before[k] != v}
        case_changed = {k for k, v in case_before.items() if getattr(clocks, k) != v}
        assert changed and changed <= set(FIELDS_TICK_WRITES), changed
        assert case_changed <= set(CASE_FIELDS_TICK_WRITES), case_changed


def test_fired_events_continue_a_stored_trace_only_when_it_is_a_valid_traceparent() -> None:
    from services.sla.handlers.context import trace_of

    valid = "00-" + "ab" * 16 + "-" + "12" * 8 + "-01"
    assert trace_of(valid, "vendor=1") == [("traceparent", valid.encode()), ("tracestate", b"vendor=1")]
    assert trace_of(valid, None) == [("traceparent", valid.encode())]
    for bad in (None, "", "garbage", "00-" + "0" * 32 + "-" + "12" * 8 + "-01", "ff" + valid[2:], valid.upper()):
        assert trace_of(bad, None) is None  # the batch's own span then starts the trace
