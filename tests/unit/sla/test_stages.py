"""Stage rules: which case events start, finish, pause and move the clocks, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

from schemas.case import CaseEventKind as K
from schemas.common import Level, Urgency
from schemas.sla import SlaEventKind as S
from schemas.sla import SlaStage
from services.sla.domain.calendar import Calendar
from services.sla.domain.deadlines import CaseClocks, DeadlineState, Rules
from services.sla.domain.stages import on_case_event
from tests.unit.sla.conftest import local
from tests.unit.sla.events import Case


def setup(calendar: Calendar, **kw: object) -> tuple[Case, CaseClocks, Rules]:
    return Case(**kw), CaseClocks("C-1"), Rules(calendar)  # type: ignore[arg-type]


def test_dispatch_starts_the_accept_stage_on_working_time(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    change = on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 11:00")), rules)
    [event] = change.events
    assert (event.kind, event.stage, event.deadline) == (S.DEADLINE_SET, SlaStage.ACCEPT, local("2026-03-10 14:30"))
    assert (event.owner, event.level, event.calendar_version) == ("GRID", Level.GRID, calendar.version)
    assert clocks.open is not None and clocks.open.warn_at == local("2026-03-10 12:00")  # 50% of 2 working hours


def test_accept_in_time_is_met_and_starts_handling(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 11:00")), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 13:40")), rules)
    assert [(e.kind, e.stage) for e in change.events] == [(S.MET, SlaStage.ACCEPT), (S.DEADLINE_SET, SlaStage.HANDLE)]
    assert change.events[1].deadline == local("2026-03-13 13:40")
    assert change.touched[0].state is DeadlineState.MET


def test_late_accept_is_not_met(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 11:00")), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 15:00")), rules)
    assert [e.kind for e in change.events] == [S.OVERDUE, S.DEADLINE_SET]
    assert change.events[0].event_id == "SLA-C-1-1.1-overdue"  # same id the timer would have used
    assert change.touched[0].state is DeadlineState.LATE


def test_resolved_stops_the_clock(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 11:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 12:00")), rules)
    change = on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-11 09:00")), rules)
    assert [(e.kind, e.stage) for e in change.events] == [(S.MET, SlaStage.HANDLE), (S.DEADLINE_SET, SlaStage.VERIFY)]
    closed = on_case_event(clocks, case.event(K.CLOSED, local("2026-03-11 12:00")), rules)
    assert [(e.kind, e.stage) for e in closed.events] == [(S.MET, SlaStage.VERIFY)]
    assert clocks.open is None


def test_suspend_keeps_the_remaining_time_and_resume_moves_the_deadline(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 08:30")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 08:30")), rules)  # handle: 3wd → Fri 08:30
    paused = on_case_event(clocks, case.event(K.SUSPENDED, local("2026-03-11 08:30")), rules)
    assert paused.events[0].deadline is None and clocks.open is not None
    assert clocks.open.remaining == timedelta(hours=15)  # two working days left
    resumed = on_case_event(clocks, case.event(K.RESUMED, local("2026-03-16 08:30")), rules)  # next Monday
    assert resumed.events[0].kind is S.DEADLINE_SET
    assert resumed.events[0].deadline == local("2026-03-17 17:30")
    assert len({e.event_id for e in (*paused.events, *resumed.events)}) == 2


def test_extension_moves_the_handle_deadline_on_its_clock(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar, handle="1d", clock="natural")
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 10:00")), rules)
    change = on_case_event(clocks, case.event(K.EXTENDED, local("2026-03-10 20:00"), extension_hours=24), rules)
    assert change.events[0].deadline == local("2026-03-12 10:00")


def test_escalated_restarts_the_accept_clock_for_the_new_owner(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    change = on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 12:00"), level=Level.STREET), rules)
    assert change.touched[0].state is DeadlineState.SUPERSEDED
    assert (change.events[0].stage, change.events[0].owner, change.events[0].level) == (
        SlaStage.ACCEPT, "STREET", Level.STREET)
    assert clocks.open is not None and clocks.open.gen == 2


def test_reopened_starts_a_new_handle_stage(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    for kind, at in ((K.DISPATCHED, "2026-03-10 09:00"), (K.ACCEPTED, "2026-03-10 09:10"),
                     (K.RESOLVED, "2026-03-10 10:00")):
        on_case_event(clocks, case.event(kind, local(at)), rules)
    change = on_case_event(clocks, case.event(K.REOPENED, local("2026-03-11 09:00")), rules)
    assert [(e.kind, e.stage) for e in change.events] == [(S.MET, SlaStage.VERIFY), (S.DEADLINE_SET, SlaStage.HANDLE)]


def test_stale_and_repeated_events_are_ignored(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar)
    first = case.event(K.DISPATCHED, local("2026-03-10 09:00"))
    on_case_event(clocks, first, rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 09:10")), rules)
    assert on_case_event(clocks, first, rules).stale


def test_urgent_cases_run_on_the_natural_clock(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar, accept="2h")
    change = on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-13 17:00")), rules, Urgency.URGENT)
    assert change.events[0].deadline == local("2026-03-13 19:00")


def test_critical_cases_get_half_the_time_on_the_natural_clock(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar, accept="2h")
    change = on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-13 17:00")), rules, Urgency.CRITICAL)
    assert change.events[0].deadline == local("2026-03-13 18:00")


def test_no_limit_means_no_clock(calendar: Calendar) -> None:
    case, clocks, rules = setup(calendar, accept=None)
    assert on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules).events == []
