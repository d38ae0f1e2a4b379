"""Clock rules and the defects of issue 9, one test each (each written to fail on the code before it)."""

from __future__ import annotations

from datetime import date, timedelta

from schemas.case import CaseEventKind as K
from schemas.common import Level
from schemas.sla import SlaEventKind as S
from schemas.sla import SlaStage
from services.sla.domain.calendar import Calendar
from services.sla.domain.deadlines import CaseClocks, DeadlineState, Rules
from services.sla.domain.stages import on_case_event, recompute
from services.sla.domain.timers import tick
from tests.unit.sla.conftest import local
from tests.unit.sla.events import Case


def handling(calendar: Calendar, **kw: object) -> tuple[Case, CaseClocks, Rules]:
    """A case dispatched and accepted on Tuesday 2026-03-10 at 09:00 / 09:10 (handle 1d natural unless told)."""
    kw.setdefault("handle", "1d")
    kw.setdefault("clock", "natural")
    case, clocks, rules = Case(**kw), CaseClocks("C-1"), Rules(calendar)  # type: ignore[arg-type]
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 09:10")), rules)
    return case, clocks, rules


def kinds(change: object) -> list[tuple[S, SlaStage]]:
    return [(e.kind, e.stage) for e in change.events]  # type: ignore[attr-defined]


# Warnings at configurable fractions


def test_warnings_fire_at_half_and_at_four_fifths_of_the_time_each_once(calendar: Calendar) -> None:
    _, clocks, rules = handling(calendar)  # handle due Wed 09:10, 24 natural hours
    d = clocks.open
    assert d is not None
    assert tick(clocks, d, local("2026-03-10 21:09"), rules).events == []
    [half] = tick(clocks, d, local("2026-03-10 21:10"), rules).events
    assert (half.kind, half.warn_share) == (S.WARNED, 0.5)
    assert tick(clocks, d, local("2026-03-11 04:00"), rules).events == []
    [late] = tick(clocks, d, local("2026-03-11 04:22"), rules).events
    assert (late.kind, late.warn_share) == (S.WARNED, 0.8) and late.event_id != half.event_id
    assert tick(clocks, d, local("2026-03-11 05:00"), rules).events == []


def test_warning_fractions_are_configurable(calendar: Calendar) -> None:
    case, clocks = Case(handle="1d", clock="natural"), CaseClocks("C-1")
    rules = Rules(calendar, warn_shares=(0.25,))
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 09:10")), rules)
    assert clocks.open is not None and clocks.open.warn_at == local("2026-03-10 15:10")


def test_a_stage_that_starts_past_a_fraction_warns_only_for_the_fractions_left(calendar: Calendar) -> None:
    _, clocks, rules = handling(calendar)
    d = clocks.open
    assert d is not None
    events = tick(clocks, d, local("2026-03-11 05:00"), rules).events  # the timer was away: 50 % and 80 % passed
    assert [e.warn_share for e in events] == [0.5, 0.8]


# Finishing: only real work is `met`


def test_rejected_case_does_not_give_its_owner_an_accept_met(calendar: Calendar) -> None:
    case, clocks, rules = Case(), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    change = on_case_event(clocks, case.event(K.REJECTED, local("2026-03-10 09:30")), rules)
    assert change.events == [] and change.touched[0].state is DeadlineState.SUPERSEDED


def test_merged_case_does_not_count_as_met(calendar: Calendar) -> None:
    case, clocks, rules = Case(), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    change = on_case_event(clocks, case.event(K.MERGED, local("2026-03-10 09:30")), rules)
    assert S.MET not in [e.kind for e in change.events]


def test_a_paused_stage_is_met_only_if_it_had_time_left(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    on_case_event(clocks, case.event(K.SUSPENDED, local("2026-03-10 10:00")), rules)
    assert clocks.open is not None and clocks.open.remaining is not None
    clocks.open.remaining = timedelta(0)  # a stage paused at its very deadline
    change = on_case_event(clocks, case.event(K.CLOSED, local("2026-03-12 10:00")), rules)
    assert S.MET not in [e.kind for e in change.events]


# Pauses: suspended, or an extension pending


def test_a_pending_extension_request_pauses_the_clock_and_approval_moves_it(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)  # due Wed 09:10
    paused = on_case_event(clocks, case.event(K.EXTENSION_REQUESTED, local("2026-03-10 21:10")), rules)
    assert clocks.open is not None and clocks.open.state is DeadlineState.PAUSED
    assert clocks.open.remaining == timedelta(hours=12) and paused.events[0].deadline is None
    moved = on_case_event(clocks, case.event(K.EXTENDED, local("2026-03-11 09:10"), extension_hours=24), rules)
    assert moved.events[-1].deadline == local("2026-03-12 21:10")  # 12 h left + 24 h, from the approval
    assert clocks.open.state is DeadlineState.RUNNING


def test_resuming_a_suspension_keeps_the_clock_paused_while_an_extension_is_pending(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    on_case_event(clocks, case.event(K.EXTENSION_REQUESTED, local("2026-03-10 12:00")), rules)
    on_case_event(clocks, case.event(K.SUSPENDED, local("2026-03-10 13:00")), rules)
    on_case_event(clocks, case.event(K.RESUMED, local("2026-03-10 14:00")), rules)
    assert clocks.open is not None and clocks.open.state is DeadlineState.PAUSED


def test_an_extension_approved_after_the_breach_never_reports_the_stage_twice(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    d = clocks.open
    assert d is not None
    breached = tick(clocks, d, local("2026-03-11 09:10"), rules).events
    assert breached[0].kind is S.OVERDUE
    on_case_event(clocks, case.event(K.EXTENDED, local("2026-03-11 10:00"), extension_hours=48), rules)
    assert clocks.open is not None
    later = tick(clocks, clocks.open, local("2026-03-14 09:00"), rules).events
    assert S.OVERDUE not in [e.kind for e in later]
    done = on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-11 12:00")), rules)
    assert (S.MET, SlaStage.HANDLE) not in kinds(done)
    assert done.touched[0].state is DeadlineState.LATE


# Reopen, verify


def test_accepting_a_reopened_case_neither_meets_nor_restarts_its_handle_stage(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-10 10:00")), rules)
    on_case_event(clocks, case.event(K.REOPENED, local("2026-03-10 11:00")), rules)
    assert clocks.open is not None
    handle = (clocks.open.gen, clocks.open.due_at)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 12:00")), rules)
    assert change.events == [] and (clocks.open.gen, clocks.open.due_at) == handle


def test_resolving_starts_the_verify_stage_for_the_grid_and_verification_meets_it(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    change = on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-10 10:00")), rules)
    assert kinds(change) == [(S.MET, SlaStage.HANDLE), (S.DEADLINE_SET, SlaStage.VERIFY)]
    assert (change.events[1].owner, change.events[1].deadline) == ("GRID", local("2026-03-11 10:00"))
    done = on_case_event(clocks, case.event(K.VERIFIED, local("2026-03-10 16:00")), rules)
    assert kinds(done) == [(S.MET, SlaStage.VERIFY)] and clocks.open is None


def test_a_failed_verification_ends_verify_and_restarts_a_full_handle_stage(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-10 10:00")), rules)
    change = on_case_event(clocks, case.event(K.REOPENED, local("2026-03-10 16:00")), rules)
    assert kinds(change) == [(S.MET, SlaStage.VERIFY), (S.DEADLINE_SET, SlaStage.HANDLE)]
    assert change.events[1].deadline == local("2026-03-11 16:00")


def test_a_verify_stage_past_due_is_reported_but_not_escalated(calendar: Calendar) -> None:
    case, clocks, rules = handling(calendar)
    on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-10 10:00")), rules)
    assert clocks.open is not None
    events = tick(clocks, clocks.open, local("2026-03-12 10:00"), rules).events
    assert S.OVERDUE in [e.kind for e in events] and S.ESCALATION_DECIDED not in [e.kind for e in events]


# Escalation: the rung's own limit; a department keeps its stage; the overdue list keeps the case


def test_a_new_holder_after_escalation_accepts_then_handles_within_the_rungs_limit(calendar: Calendar) -> None:
    case, clocks, rules = Case(handle="3d", clock="natural"), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-10 12:00"), rules)  # accept (2 working hours) breached
    on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 12:01"), level=Level.COMMUNITY), rules)
    assert clocks.open is not None and clocks.open.stage is SlaStage.ACCEPT and clocks.open.rung == 1
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 13:00")), rules)
    handle = change.events[-1]
    assert handle.stage is SlaStage.HANDLE and handle.deadline == local("2026-03-11 13:00")  # community rung: 1d
    assert handle.rung == 1


def test_each_rung_has_its_own_configurable_limit(calendar: Calendar) -> None:
    rules = Rules(calendar, rung_limits={Level.COMMUNITY: "4h"})
    case, clocks = Case(handle="3d", clock="natural"), CaseClocks("C-1")
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-10 12:00"), rules)
    on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 12:01"), level=Level.COMMUNITY), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 13:00")), rules)
    assert change.events[-1].deadline == local("2026-03-10 17:00")


def test_the_items_own_rung_limit_comes_before_the_district_table(calendar: Calendar) -> None:
    """Each rung of the item's ladder with its own limit (the responsibility list's `rung_limits`); the
    district table (SLA_RUNG_LIMITS) only for a rung the item names none for."""
    rules = Rules(calendar, rung_limits={Level.COMMUNITY: "4h", Level.STREET: "2d"})
    case = Case(handle="3d", clock="natural", rung_limits={Level.COMMUNITY: "2h"})
    clocks = CaseClocks("C-1")
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-10 12:00"), rules)
    case.assignment = case.assignment.model_copy(update={"level": Level.COMMUNITY, "owner": "COMMUNITY"})
    on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 12:01")), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 13:00")), rules)
    assert (change.events[-1].deadline, change.events[-1].rung) == (local("2026-03-10 15:00"), 1)  # item: 2h
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-10 15:00"), rules)
    case.assignment = case.assignment.model_copy(update={"level": Level.STREET, "owner": "STREET"})
    on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 15:01")), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 16:00")), rules)
    assert (change.events[-1].deadline, change.events[-1].rung) == (local("2026-03-12 16:00"), 2)  # table: 2d


def test_a_department_that_keeps_the_case_on_escalation_is_not_asked_to_accept_again(calendar: Calendar) -> None:
    case = Case(owner="URBAN_MGMT", level=Level.DISTRICT, ladder=(Level.SUPERVISION,), handle="1d", clock="natural")
    clocks, rules = CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 09:10")), rules)
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-11 09:10"), rules)
    case.assignment = case.assignment.model_copy(update={"level": Level.SUPERVISION})
    change = on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-11 09:11")), rules)
    [started] = [e for e in change.events if e.kind is S.DEADLINE_SET]
    assert started.stage is SlaStage.HANDLE and started.level is Level.SUPERVISION
    assert started.deadline == local("2026-03-18 09:11")  # supervision rung: 5 working days (calendar)
    assert clocks.open is not None and clocks.open.rung == 1


def test_an_escalated_case_stays_on_the_overdue_list_with_its_rung(calendar: Calendar) -> None:
    case, clocks, rules = Case(), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    assert clocks.open is not None
    tick(clocks, clocks.open, local("2026-03-10 12:00"), rules)
    on_case_event(clocks, case.event(K.ESCALATED, local("2026-03-10 12:01"), level=Level.COMMUNITY), rules)
    assert clocks.open is not None and clocks.open.on_overdue_list and clocks.open.rung == 1


# Urgent matters: natural time


def test_an_urgent_working_day_limit_counts_natural_days(calendar: Calendar) -> None:
    from schemas.common import Urgency
    case, clocks, rules = Case(handle="1wd"), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-13 16:00")), rules, Urgency.URGENT)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-13 17:00")), rules, Urgency.URGENT)
    assert change.events[-1].deadline == local("2026-03-14 17:00")  # Saturday: an urgent matter does not wait


# A year without official data: provisional, and recomputed when the data arrives


def _calendar(official: set[int], off: set[date]) -> Calendar:
    from services.sla.adapters.calendar_files import load_calendar
    from services.sla.adapters.official_calendar import OfficialDays
    from services.sla.settings import HERE
    return load_calendar(HERE / "data" / "calendar", OfficialDays(
        version="holidays-test", official_years=frozenset(official), fallback_years=frozenset(),
        days_off=frozenset(off), working_weekend_days=frozenset()))


def test_a_deadline_reaching_into_a_year_without_official_data_is_provisional(calendar: Calendar) -> None:
    case, clocks, rules = Case(handle="5wd"), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-12-28 09:00")), rules)
    change = on_case_event(clocks, case.event(K.ACCEPTED, local("2026-12-28 09:30")), rules)
    handle = change.events[-1]
    assert handle.provisional and "provisional" in (handle.reason or "")
    assert clocks.open is not None and clocks.open.provisional


def test_a_natural_clock_deadline_is_never_provisional(calendar: Calendar) -> None:
    case, clocks, rules = Case(handle="10d", clock="natural"), CaseClocks("C-1"), Rules(calendar)
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-12-28 09:00")), rules)
    assert not on_case_event(clocks, case.event(K.ACCEPTED, local("2026-12-28 09:30")), rules).events[-1].provisional


def test_a_provisional_deadline_is_recomputed_when_the_years_data_arrives(calendar: Calendar) -> None:
    case, clocks = Case(handle="5wd"), CaseClocks("C-1")
    before = Rules(_calendar({2025, 2026}, set()))
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-12-28 09:00")), before)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-12-28 09:30")), before)
    d = clocks.open
    assert d is not None and d.provisional and d.due_at == local("2027-01-05 09:30")  # 2027.yaml: 1 Jan off
    after = Rules(_calendar({2025, 2026, 2027}, {date(2027, 1, 1), date(2027, 1, 4)}))  # the notice is out
    change = recompute(d, local("2026-12-29 10:00"), after)
    [moved] = change.events
    assert (moved.kind, moved.deadline, moved.provisional) == (S.DEADLINE_SET, local("2027-01-06 09:30"), False)
    assert not d.provisional and recompute(d, local("2026-12-29 10:05"), after).events == []


def test_a_paused_provisional_stage_is_recomputed_when_it_resumes(calendar: Calendar) -> None:
    case, clocks = Case(handle="5wd"), CaseClocks("C-1")
    rules = Rules(_calendar({2025, 2026, 2027}, {date(2027, 1, 4)}))
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-12-28 09:00")), rules)
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-12-28 09:30")), rules)
    on_case_event(clocks, case.event(K.SUSPENDED, local("2026-12-28 10:30")), rules)
    resumed = on_case_event(clocks, case.event(K.RESUMED, local("2026-12-29 10:30")), rules)
    assert not resumed.events[-1].provisional


def test_a_stage_records_the_assisting_departments_and_runs_on_the_lead(calendar: Calendar) -> None:
    """协办: the assisting departments are kept on the lead's stages (the centre filters by them); the clock,
    its owner and its escalation stay the lead's (主办). Verification is the grid's own."""
    case, clocks, rules = Case(owner="URBAN_MGMT", level=Level.DISTRICT), CaseClocks("C-1"), Rules(calendar)
    case.assignment = case.assignment.model_copy(update={"assisting": ("WATER", "POWER")})
    on_case_event(clocks, case.event(K.DISPATCHED, local("2026-03-10 09:00")), rules)
    assert clocks.open is not None
    assert (clocks.open.owner, clocks.open.assisting) == ("URBAN_MGMT", ("WATER", "POWER"))
    on_case_event(clocks, case.event(K.ACCEPTED, local("2026-03-10 09:10")), rules)
    assert clocks.open.stage is SlaStage.HANDLE and clocks.open.assisting == ("WATER", "POWER")
    on_case_event(clocks, case.event(K.RESOLVED, local("2026-03-10 10:00")), rules)
    assert clocks.open.stage is SlaStage.VERIFY and clocks.open.assisting == ()
