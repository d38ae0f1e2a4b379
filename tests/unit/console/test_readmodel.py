"""The console's read model folds case and SLA events; stale or repeated case events change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState
from schemas.common import GeoPoint, Level, Urgency
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.console.domain.readmodel import Clock, apply_case_event, apply_sla_event

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def event(seq: int, kind: CaseEventKind, state: CaseState, **extra: object) -> CaseEvent:
    return CaseEvent(event_id=f"E{seq}", case_id="C-1", kind=kind, state=state, seq=seq,
                     at=T0 + timedelta(minutes=seq), actor="router", **extra)  # type: ignore[arg-type]


def sla(kind: SlaEventKind, **extra: object) -> SlaEvent:
    return SlaEvent(event_id=f"S-{kind.value}", case_id="C-1", kind=kind, stage=SlaStage.ACCEPT, at=T0,
                    **extra)  # type: ignore[arg-type]


def test_created_then_dispatched_carries_place_point_and_owner() -> None:
    row = apply_case_event(None, event(1, CaseEventKind.CREATED, CaseState.REPORTED,
                                       point=GeoPoint(lon=120.9, lat=32.0), urgency=Urgency.URGENT))
    assert row is not None
    row = apply_case_event(row, event(2, CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL, explanation={
        "location": {"grid_id": "G1", "community_id": "CM1", "street_id": "S1"}}))
    assert row is not None and row.state == "manual" and row.owner is None
    assert (row.grid_id, row.street_id) == ("G1", "S1")  # located, though nobody holds it yet
    row = apply_case_event(row, event(3, CaseEventKind.DISPATCHED, CaseState.DISPATCHED, assignment=Assignment(
        owner="URBAN_MGMT", level=Level.DISTRICT, item_code="A04.001", item_name="井盖", grid_id="G1",
        community_id="CM1", street_id="S1"), urgency=Urgency.URGENT))  # the router states urgency on every event
    assert row is not None
    assert (row.state, row.owner, row.item_code, row.street_id, row.lon, row.urgency) == (
        "dispatched", "URBAN_MGMT", "A04.001", "S1", 120.9, "urgent")
    assert row.opened_at == T0 + timedelta(minutes=1) and row.closed_at is None


def test_assisting_departments_are_kept_and_follow_each_assignment() -> None:
    row = apply_case_event(None, event(1, CaseEventKind.DISPATCHED, CaseState.DISPATCHED, assignment=Assignment(
        owner="WATER", level=Level.DISTRICT, item_code="A04.001", assisting=("URBAN_MGMT", "HOUSING"))))
    assert row is not None and (row.owner, row.assisting) == ("WATER", ("URBAN_MGMT", "HOUSING"))
    row = apply_case_event(row, event(2, CaseEventKind.ACCEPTED, CaseState.ACCEPTED))
    assert row is not None and row.assisting == ("URBAN_MGMT", "HOUSING")  # an event without assignment keeps it
    row = apply_case_event(row, event(3, CaseEventKind.DISPATCHED, CaseState.DISPATCHED, assignment=Assignment(
        owner="WATER", level=Level.DISTRICT, item_code="A04.001")))
    assert row is not None and row.assisting == ()  # re-dispatched without assistance


def test_the_compound_the_router_located_a_case_by_is_kept_and_follows_its_latest_place() -> None:
    row = apply_case_event(None, event(1, CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL, explanation={
        "location": {"method": "compound", "detail": "幸福小区", "grid_id": "G1"}}))
    assert row is not None and row.compound == "幸福小区"
    row = apply_case_event(row, event(2, CaseEventKind.ACCEPTED, CaseState.ACCEPTED))
    assert row is not None and row.compound == "幸福小区"  # no explanation: unchanged
    row = apply_case_event(row, event(3, CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL, explanation={
        "location": {"method": "road", "detail": "人民路12号", "grid_id": "G2"}}))
    assert row is not None and (row.compound, row.grid_id) == (None, "G2")


def test_a_redelivered_or_older_case_event_is_a_no_op() -> None:
    row = apply_case_event(None, event(1, CaseEventKind.CREATED, CaseState.REPORTED))
    row = apply_case_event(row, event(2, CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL))
    assert apply_case_event(row, event(2, CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL)) is None
    assert apply_case_event(row, event(1, CaseEventKind.CREATED, CaseState.REPORTED)) is None


def test_closing_states_close_the_row_and_reopening_opens_it() -> None:
    row = apply_case_event(None, event(1, CaseEventKind.CREATED, CaseState.REPORTED))
    row = apply_case_event(row, event(2, CaseEventKind.CLOSED, CaseState.CLOSED))
    assert row is not None and row.closed_at is not None
    row = apply_case_event(row, event(3, CaseEventKind.REOPENED, CaseState.REOPENED))
    assert row is not None and row.closed_at is None


def test_sla_lateness_and_the_highest_rung_reached() -> None:
    clock = apply_sla_event(None, sla(SlaEventKind.DEADLINE_SET, deadline=T0))
    assert clock == Clock(case_id="C-1", due_at=T0)
    clock = apply_sla_event(clock, sla(SlaEventKind.WARNED))
    assert clock.lateness == "warned"
    clock = apply_sla_event(clock, sla(SlaEventKind.ESCALATION_DECIDED, to_level=Level.STREET,
                                       document="risk_warning_letter"))
    assert (clock.lateness, clock.rung, clock.escalations) == ("overdue", "street", 1)
    clock = apply_sla_event(clock, sla(SlaEventKind.DEADLINE_SET, deadline=T0 + timedelta(hours=2)))
    assert (clock.lateness, clock.rung) == ("on_time", "street")
    clock = apply_sla_event(clock, sla(SlaEventKind.MET))
    assert clock.due_at is None and clock.rung == "street"
