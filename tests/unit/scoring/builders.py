"""Case and SLA events as the router and sla would write them, for scoring's tests (unit and integration)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, ReturnRuling
from schemas.common import Channel, Level
from schemas.score import ScoreCard
from schemas.sla import SlaEvent, SlaEventKind, SlaStage

SHANGHAI = ZoneInfo("Asia/Shanghai")


def assignment(owner: str, *, level: Level = Level.DISTRICT, community: str | None = "COMM1",
               street: str | None = "ST1", grid: str | None = "G1", item: str = "A01") -> Assignment:
    """Where a case is and who holds it, as the router assigns it."""
    return Assignment(owner=owner, level=level, grid_id=grid, community_id=community, street_id=street,
                      item_code=item, item_name="井盖破损")


def case_event(case_id: str, seq: int, kind: CaseEventKind, at: datetime, *, state: CaseState | None = None,
               actor: str = "router", assigned: Assignment | None = None, reporter: str | None = None,
               **extra: Any) -> CaseEvent:
    explanation: dict[str, object] | None = {"reporter": {"kind": "grid_worker", "id": reporter}} if reporter else None
    return CaseEvent(
        event_id="CE-" + hashlib.blake2b(f"{case_id}#{seq}".encode(), digest_size=10).hexdigest(),
        case_id=case_id, kind=kind, state=state or CaseState.DISPATCHED, seq=seq, at=at, actor=actor,
        channel=Channel.GRID if reporter else Channel.HOTLINE, assignment=assigned, explanation=explanation,
        **extra,
    )


def sla_event(case_id: str, kind: SlaEventKind, stage: SlaStage, at: datetime, owner: str) -> SlaEvent:
    return SlaEvent(event_id=f"SLA-{case_id}-{stage.value}-{kind.value}-{owner}", case_id=case_id, kind=kind,
                    stage=stage, at=at, owner=owner)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A time on the Shanghai wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def a_month_of_cases(uid: str, year: int, month: int) -> list[CaseEvent | SlaEvent]:
    """Six cases in one month, worked by hand in README.md ("a worked month"): departments A and B,
    worker W, communities C and C2 of street S. The last SLA event falls just after midnight on the
    1st of the next month (Shanghai), for a case scoring never sees created."""
    da, db, w = f"TESTDEPT_A_{uid}", f"TESTDEPT_B_{uid}", f"W_{uid}"
    places = {"community": f"COMM_{uid}", "street": f"STREET_{uid}", "grid": f"GRID_{uid}"}
    here, there = dict(places), {**places, "community": f"COMM2_{uid}"}

    def at(day: int, hour: int) -> datetime:
        return local(year, month, day, hour)

    def on(owner: str, level: Level = Level.DISTRICT, place: dict[str, str] = here) -> Assignment:
        return assignment(owner, level=level, **place)

    events: list[CaseEvent | SlaEvent] = []

    def case(case_id: str, *steps: tuple[CaseEventKind, datetime, dict[str, Any]]) -> None:
        for seq, (kind, when, extra) in enumerate(steps, start=1):
            events.append(case_event(f"{case_id}-{uid}", seq, kind, when, **extra))

    k = CaseEventKind
    case("C1", (k.CREATED, at(2, 9), {"assigned": on(da)}), (k.DISPATCHED, at(2, 9), {"assigned": on(da)}),
         (k.ACCEPTED, at(2, 10), {"assigned": on(da), "actor": da}),
         (k.RESOLVED, at(3, 10), {"assigned": on(da), "actor": da}),
         (k.VERIFIED, at(3, 12), {"assigned": on(da), "actor": w}),
         (k.RATED, at(4, 9), {"assigned": on(da), "actor": "CENTER:op", "satisfaction": 5}),
         (k.CLOSED, at(4, 9), {"assigned": on(da), "actor": "CENTER:op", "state": CaseState.CLOSED}))
    case("C2", (k.CREATED, at(5, 9), {"assigned": on(db, Level.STREET), "reporter": w}),
         (k.DISPATCHED, at(5, 9), {"assigned": on(db, Level.STREET)}),
         (k.RETURNED, at(5, 11), {"assigned": on(db, Level.STREET), "actor": db}),
         (k.DISPATCHED, at(5, 11), {"assigned": on(da, Level.STREET)}),
         (k.ACCEPTED, at(6, 9), {"assigned": on(da, Level.STREET), "actor": da}),
         (k.RESOLVED, at(7, 9), {"assigned": on(da, Level.STREET), "actor": da}),
         (k.REOPENED, at(7, 13), {"assigned": on(da, Level.STREET), "actor": w, "previous_state": CaseState.RESOLVED}),
         (k.RESOLVED, at(8, 9), {"assigned": on(da, Level.STREET), "actor": da}),
         (k.VERIFIED, at(8, 11), {"assigned": on(da, Level.STREET), "actor": w}),
         (k.RATED, at(9, 9), {"assigned": on(da, Level.STREET), "actor": "CENTER:op", "satisfaction": 3}))
    case("C3", (k.CREATED, at(10, 9), {"assigned": on("COMMUNITY", Level.COMMUNITY), "reporter": w}),
         (k.DISPATCHED, at(10, 9), {"assigned": on("COMMUNITY", Level.COMMUNITY)}),
         (k.REJECTED, at(10, 15), {"assigned": on("COMMUNITY", Level.COMMUNITY), "actor": "CENTER:op"}))
    spot: dict[str, Any] = {"assigned": on("GRID", Level.GRID), "actor": w, "on_the_spot": True}
    case("C4", (k.CREATED, at(11, 9), {"assigned": on("GRID", Level.GRID)}),
         (k.DISPATCHED, at(11, 9), {"assigned": on("GRID", Level.GRID)}), (k.ACCEPTED, at(11, 9), spot),
         (k.RESOLVED, at(11, 9), spot), (k.CLOSED, at(11, 9), spot))
    case("C5", (k.CREATED, at(12, 9), {"assigned": on(db, place=there)}),
         (k.DISPATCHED, at(12, 9), {"assigned": on(db, place=there)}),
         (k.ESCALATED, at(13, 9), {"assigned": on("STREET", Level.STREET, there), "actor": "sla"}),
         (k.REPEAT_REPORTED, at(14, 9), {"assigned": on("STREET", Level.STREET, there)}))
    met, overdue, accept, handle = SlaEventKind.MET, SlaEventKind.OVERDUE, SlaStage.ACCEPT, SlaStage.HANDLE
    events += [sla_event(f"C1-{uid}", met, accept, at(2, 10), da), sla_event(f"C1-{uid}", met, handle, at(3, 10), da),
               sla_event(f"C2-{uid}", overdue, accept, at(6, 8), da), sla_event(f"C2-{uid}", met, handle, at(8, 9), da),
               sla_event(f"C5-{uid}", overdue, accept, at(13, 8), db)]
    last_day = (local(year + month // 12, month % 12 + 1, 1, 0) - timedelta(days=1)).day
    events.append(sla_event(f"C6-{uid}", met, accept, local(year, month, last_day, 23, 59) + timedelta(minutes=2), da))
    return events


# What those cards say: key suffix → (total, rank, cases counted, {indicator: (raw, numerator, denominator, points)})
EXPECTED_MONTH: dict[str, tuple[str, int, int, dict[str, tuple[str, int | None, int | None, str]]]] = {
    "department:TESTDEPT_A": ("60.00", 2, 2, {
        "timely_acceptance": ("50.00", 1, 2, "0.00"), "closure_on_time": ("100.00", 2, 2, "25.00"),
        "return_rate": ("0.00", 0, 2, "10.00"), "rework_rate": ("33.33", 1, 3, "0.00"),
        "repeat_rate": ("0.00", 0, 2, "10.00"), "satisfaction": ("4.00", 8, 2, "15.00")}),
    "department:TESTDEPT_B": ("66.00", 1, 2, {
        "timely_acceptance": ("0.00", 0, 1, "0.00"), "closure_on_time": ("0.00", 0, 0, "25.00"),
        "return_rate": ("50.00", 1, 2, "0.00"), "rework_rate": ("0.00", 0, 0, "15.00"),
        "repeat_rate": ("0.00", 0, 2, "10.00"), "satisfaction": ("0.00", 0, 0, "16.00")}),
    "grid_worker:W": ("27.24", 1, 4, {
        "reports": ("3.00", 3, None, "1.88"), "report_quality": ("66.67", 2, 3, "8.33"),
        "difficulty": ("6.00", 3, None, "1.50"), "on_the_spot": ("1.00", 1, None, "0.75"),
        "verification_timeliness": ("2.67", 28800, 3, "14.78")}),
    "community:COMM": ("60.00", 2, 4, {
        "timely_acceptance": ("50.00", 1, 2, "0.00"), "closure_on_time": ("100.00", 2, 2, "25.00"),
        "return_rate": ("20.00", 1, 5, "0.00"), "rework_rate": ("33.33", 1, 3, "0.00"),
        "repeat_rate": ("0.00", 0, 5, "10.00"), "satisfaction": ("4.00", 8, 2, "15.00"),
        "escalations": ("0.00", 0, None, "10.00")}),
    "community:COMM2": ("70.00", 1, 1, {
        "timely_acceptance": ("0.00", 0, 1, "0.00"), "closure_on_time": ("0.00", 0, 0, "25.00"),
        "return_rate": ("0.00", 0, 2, "10.00"), "rework_rate": ("0.00", 0, 0, "10.00"),
        "repeat_rate": ("50.00", 1, 2, "0.00"), "satisfaction": ("0.00", 0, 0, "16.00"),
        "escalations": ("1.00", 1, None, "9.00")}),
    "street:STREET": ("54.71", 1, 5, {  # 25 + 20/7 + 20/7 + 15 + 9 = 54.714…; the rounded points add up to 54.72
        "timely_acceptance": ("33.33", 1, 3, "0.00"), "closure_on_time": ("100.00", 2, 2, "25.00"),
        "return_rate": ("14.29", 1, 7, "2.86"), "rework_rate": ("33.33", 1, 3, "0.00"),
        "repeat_rate": ("14.29", 1, 7, "2.86"), "satisfaction": ("4.00", 8, 2, "15.00"),
        "escalations": ("1.00", 1, None, "9.00")}),
}
EXPECTED_NEXT_MONTH = {  # the SLA event two minutes after midnight, Shanghai time
    "department:TESTDEPT_A": ("96.00", 1, 1, {
        "timely_acceptance": ("100.00", 1, 1, "20.00"), "closure_on_time": ("0.00", 0, 0, "25.00"),
        "return_rate": ("0.00", 0, 0, "10.00"), "rework_rate": ("0.00", 0, 0, "15.00"),
        "repeat_rate": ("0.00", 0, 0, "10.00"), "satisfaction": ("0.00", 0, 0, "16.00")}),
}


def summary(card: ScoreCard) -> tuple[str, int | None, int, dict[str, tuple[str, int | None, int | None, str]]]:
    return (str(card.total), card.rank, card.cases_counted,
            {i.code: (str(i.raw), i.numerator, i.denominator, str(i.points)) for i in card.indicators})


def suffix(card: ScoreCard, uid: str) -> str:
    """`department:TESTDEPT_A` for `2031-03:department:TESTDEPT_A_<uid>@…`."""
    return f"{card.entity_type.value}:{card.entity_id.removesuffix('_' + uid)}"


def an_assessed_month(uid: str, year: int, month: int) -> list[CaseEvent | SlaEvent]:
    """Six cases worked by hand in README.md ("an assessed month", ruler 2026.12-1): departments A, B, C,
    worker W, grids G1 (community C1) and G2 (community C2) of street S. K1: A and B return it, 仲裁
    sends it back to B (A's return justified, B's not). K2: reworked once, and rated late, after closing
    (the last event). K3: W reports the same item in the same grid five days after K1 closed (a repeat
    complaint against B); A returns it, 仲裁 gives it to C. K4 handled on the spot, K5 rejected, K6
    escalated. K1, K2 and K6 came in by the 12345 hotline."""
    da, db, dc, w = (f"{name}_{uid}" for name in ("DEPT_A", "DEPT_B", "DEPT_C", "W"))
    g1 = {"grid": f"G1_{uid}", "community": f"C1_{uid}", "street": f"S_{uid}"}
    g2 = {"grid": f"G2_{uid}", "community": f"C2_{uid}", "street": f"S_{uid}"}

    def at(day: int, hour: int) -> datetime:
        return local(year, month, day, hour)

    def on(owner: str, place: dict[str, str], item: str, level: Level = Level.DISTRICT) -> dict[str, Any]:
        return {"assigned": assignment(owner, level=level, item=item, **place)}

    def ruling(department: str, seq: int, when: datetime, justified: bool) -> ReturnRuling:
        return ReturnRuling(department=department, returned_seq=seq, returned_at=when, justified=justified)

    events: list[CaseEvent | SlaEvent] = []
    late: list[CaseEvent | SlaEvent] = []

    def case(case_id: str, *steps: tuple[CaseEventKind, datetime, dict[str, Any]]) -> None:
        for seq, (kind, when, extra) in enumerate(steps, start=1):
            (late if extra.pop("late", False) else events).append(
                case_event(f"{case_id}-{uid}", seq, kind, when, **extra))

    k, centre = CaseEventKind, {"actor": "CENTER:op"}
    k1b = on(db, g1, "I1")
    case("K1", (k.CREATED, at(2, 9), on(da, g1, "I1")), (k.DISPATCHED, at(2, 9), on(da, g1, "I1")),
         (k.RETURNED, at(2, 11), {**on(da, g1, "I1"), "actor": da}), (k.DISPATCHED, at(2, 11), k1b),
         (k.RETURNED, at(2, 14), {**k1b, "actor": db}), (k.ARBITRATION_REQUESTED, at(2, 14), k1b),
         (k.DISPATCHED, at(3, 9), {**k1b, **centre, "return_rulings": (
             ruling(da, 3, at(2, 11), True), ruling(db, 5, at(2, 14), False))}),
         (k.ACCEPTED, at(3, 10), {**k1b, "actor": db}), (k.RESOLVED, at(4, 9), {**k1b, "actor": db}),
         (k.VERIFIED, at(4, 11), {**k1b, "actor": w}), (k.RATED, at(5, 9), {**k1b, **centre, "satisfaction": 4}),
         (k.CLOSED, at(5, 9), {**k1b, **centre, "state": CaseState.CLOSED}))
    k2 = on(da, g1, "I2")
    case("K2", (k.CREATED, at(6, 9), k2), (k.DISPATCHED, at(6, 9), k2), (k.ACCEPTED, at(6, 10), {**k2, "actor": da}),
         (k.RESOLVED, at(7, 9), {**k2, "actor": da}),
         (k.REOPENED, at(7, 13), {**k2, "actor": w, "previous_state": CaseState.RESOLVED}),
         (k.RESOLVED, at(8, 9), {**k2, "actor": da}), (k.VERIFIED, at(8, 10), {**k2, "actor": w}),
         (k.CLOSED, at(8, 10), {**k2, **centre, "state": CaseState.CLOSED}),
         (k.RATED, at(28, 9), {**k2, **centre, "satisfaction": 5, "state": CaseState.CLOSED, "late": True}))
    k3a, k3c = on(da, g1, "I1", Level.COMMUNITY), on(dc, g1, "I1", Level.COMMUNITY)
    case("K3", (k.CREATED, at(10, 9), {**k3a, "reporter": w}), (k.DISPATCHED, at(10, 9), k3a),
         (k.RETURNED, at(10, 11), {**k3a, "actor": da}), (k.ARBITRATION_REQUESTED, at(10, 11), k3a),
         (k.DISPATCHED, at(11, 9), {**k3c, **centre, "return_rulings": (ruling(da, 3, at(10, 11), True),)}),
         (k.ACCEPTED, at(11, 10), {**k3c, "actor": dc}), (k.RESOLVED, at(12, 9), {**k3c, "actor": dc}),
         (k.VERIFIED, at(12, 12), {**k3c, "actor": w}), (k.RATED, at(13, 9), {**k3c, **centre, "satisfaction": 3}),
         (k.CLOSED, at(13, 9), {**k3c, **centre, "state": CaseState.CLOSED}))
    spot = {**on("GRID", g2, "I4", Level.GRID), "actor": w, "on_the_spot": True}
    case("K4", (k.CREATED, at(15, 9), {**on("GRID", g2, "I4", Level.GRID), "reporter": w}),
         (k.DISPATCHED, at(15, 9), on("GRID", g2, "I4", Level.GRID)), (k.ACCEPTED, at(15, 9), dict(spot)),
         (k.RESOLVED, at(15, 9), dict(spot)), (k.CLOSED, at(15, 9), {**spot, "state": CaseState.CLOSED}))
    case("K5", (k.CREATED, at(16, 9), {**on("COMMUNITY", g2, "I5", Level.STREET), "reporter": w}),
         (k.REJECTED, at(16, 15), {**on("COMMUNITY", g2, "I5", Level.STREET), **centre,
                                   "state": CaseState.REJECTED}))
    case("K6", (k.CREATED, at(18, 9), on(dc, g2, "I3")), (k.DISPATCHED, at(18, 9), on(dc, g2, "I3")),
         (k.ESCALATED, at(19, 9), {**on(da, g2, "I3"), "actor": "sla", "state": CaseState.ESCALATED}))
    met, overdue, accept, handle = SlaEventKind.MET, SlaEventKind.OVERDUE, SlaStage.ACCEPT, SlaStage.HANDLE
    for case_id, kind, stage, when, owner in (
            ("K1", met, accept, at(3, 10), db), ("K1", met, handle, at(4, 9), db), ("K2", met, accept, at(6, 10), da),
            ("K2", overdue, handle, at(8, 9), da), ("K3", met, accept, at(11, 10), dc),
            ("K3", met, handle, at(12, 9), dc), ("K6", overdue, accept, at(19, 8), dc)):
        events.append(sla_event(f"{case_id}-{uid}", kind, stage, when, owner))
    return events + late


Expected = dict[str, tuple[str, int | None, int, dict[str, tuple[str, int | None, int | None, str]]]]

# Ruler 2026.12-1 on that month, worked by hand (README.md "an assessed month"): key suffix → (total, rank,
# cases counted, {indicator: (raw, numerator, denominator, points)}).
_G1 = ("45.00", 1, 3, {  # 25 + 0 + 15 + 10/3 + 5/3 + 0
    "closure_rate": ("100.00", 3, 3, "25.00"), "closure_on_time": ("66.67", 2, 3, "0.00"),
    "escalation_rate": ("0.00", 0, 3, "15.00"), "satisfaction_rate": ("66.67", 2, 3, "3.33"),
    "return_rate": ("16.67", 1, 6, "1.67"), "repeat_complaint_rate": ("33.33", 1, 3, "0.00")})
_G2 = ("56.00", 1, 3, {
    "closure_rate": ("33.33", 1, 3, "0.00"), "closure_on_time": ("0.00", 0, 0, "20.00"),
    "escalation_rate": ("33.33", 1, 3, "0.00"), "satisfaction_rate": ("0.00", 0, 0, "16.00"),
    "return_rate": ("0.00", 0, 3, "10.00"), "repeat_complaint_rate": ("0.00", 0, 0, "10.00")})
EXPECTED_ASSESSED: Expected = {
    "department:DEPT_A": ("60.00", 2, 4, {
        "timely_acceptance": ("100.00", 1, 1, "20.00"), "closure_on_time": ("0.00", 0, 1, "0.00"),
        "return_rate": ("0.00", 0, 4, "10.00"),  # both of A's returns were ruled justified
        "rework_rate": ("50.00", 1, 2, "0.00"), "repeat_complaint_rate": ("0.00", 0, 1, "10.00"),
        "satisfaction_rate": ("100.00", 1, 1, "20.00")}),  # the late rating
    "department:DEPT_B": ("80.00", 1, 1, {
        "timely_acceptance": ("100.00", 1, 1, "20.00"), "closure_on_time": ("100.00", 1, 1, "25.00"),
        "return_rate": ("50.00", 1, 2, "0.00"),  # 仲裁 sent K1 back to B: its return was unjustified
        # K3 repeats K1: by hand, B closed one case (K1, I1 in G1, the 5th) and the only later case on I1
        # in G1 is K3 (the 10th: 5 days, < 30) — 1 of 1 per pair or, as now, once per closure (unchanged)
        "rework_rate": ("0.00", 0, 1, "15.00"), "repeat_complaint_rate": ("100.00", 1, 1, "0.00"),
        "satisfaction_rate": ("100.00", 1, 1, "20.00")}),
    "department:DEPT_C": ("60.00", 2, 2, {
        "timely_acceptance": ("50.00", 1, 2, "0.00"), "closure_on_time": ("100.00", 1, 1, "25.00"),
        "return_rate": ("0.00", 0, 2, "10.00"), "rework_rate": ("0.00", 0, 1, "15.00"),
        "repeat_complaint_rate": ("0.00", 0, 1, "10.00"),
        "satisfaction_rate": ("0.00", 0, 1, "0.00")}),  # rated 3: resolved, but not 满意/基本满意
    "grid_worker:W": ("31.87", 1, 5, {  # 1.5 + 1.5 + 25/3 + 0.75 + 20 × 45.5/46
        "reports": ("3.00", 3, None, "1.50"), "difficulty": ("6.00", 3, None, "1.50"),
        "valid_report_rate": ("66.67", 2, 3, "8.33"), "on_the_spot": ("1.00", 1, None, "0.75"),
        "verification_timeliness": ("2.50", 36000, 4, "19.78")}),
    "grid:G1": _G1, "grid:G2": _G2,
    "community:C1": (_G1[0], 2, *_G1[2:]), "community:C2": _G2,  # ranked within street S
    "street:S": ("14.44", 1, 6, {  # 25/6 + 0 + 2.5 + 10/3 + 40/9 + 0
        "closure_rate": ("66.67", 4, 6, "4.17"), "closure_on_time": ("66.67", 2, 3, "0.00"),
        "escalation_rate": ("16.67", 1, 6, "2.50"), "satisfaction_rate": ("66.67", 2, 3, "3.33"),
        "return_rate": ("11.11", 1, 9, "4.44"), "repeat_complaint_rate": ("33.33", 1, 3, "0.00")}),
    "hotline:12345": ("60.00", 1, 3, {
        "response_rate": ("66.67", 2, 3, "0.00"), "resolution_rate": ("100.00", 2, 2, "30.00"),
        "satisfaction_rate": ("100.00", 2, 2, "30.00")}),
    "center:CENTER": ("0.00", 1, 6, {"direct_closure_share": ("0.00", 0, 6, "0.00")}),
}
AFFECTED_BY_THE_LATE_RATING = {"department:DEPT_A", "grid:G1", "community:C1", "street:S", "hotline:12345"}
