"""Which facts an event establishes, and for whom (departments, grid workers; places by the case)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from schemas.case import CaseEventKind, CaseState, ReturnRuling
from schemas.common import Level
from schemas.score import EntityType
from schemas.sla import SlaEventKind, SlaStage
from services.scoring.domain.derive import from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext, Fact, FactName, attribute
from tests.unit.scoring.builders import assignment, case_event, sla_event

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai, still November


FIRST_LEDGER = frozenset(FactName) - {  # the facts ruler 2026.11-1 reads; the later ones are tested below
    FactName.CASE_OPENED, FactName.CASE_CLOSED, FactName.CASE_ESCALATED, FactName.CLOSED, FactName.RATED_RESOLVED,
    FactName.RATED_SATISFIED, FactName.RETURN_JUSTIFIED, FactName.ANSWERED, FactName.ASSISTED}


def run(*events: tuple[CaseEventKind, dict[str, object]],
        only: frozenset[FactName] = FIRST_LEDGER) -> tuple[CaseContext | None, list[Fact]]:
    context: CaseContext | None = None
    facts: list[Fact] = []
    for seq, (kind, extra) in enumerate(events, start=1):
        at = extra.pop("at", T0 + timedelta(hours=seq))
        derived = from_case_event(case_event("C-1", seq, kind, at, **extra), context)  # type: ignore[arg-type]
        context = derived.context
        facts.extend(f for f in derived.facts if f.name in only)
    return context, facts


def named(facts: list[Fact]) -> list[tuple[str, str, str | None, str | None]]:
    return [(f.name.value, f.period, f.department, f.worker) for f in facts]


def test_a_grid_workers_report_counts_with_its_handling_level() -> None:
    ctx, facts = run((CaseEventKind.CREATED, {"reporter": "W1", "assigned": assignment("GRID", level=Level.STREET)}))
    assert [(f.name, f.tag, f.worker, f.period) for f in facts] == [(FactName.REPORTED, "street", "W1", "2026-11")]
    assert ctx is not None and (ctx.community_id, ctx.street_id) == ("COMM1", "ST1")


def test_a_citizens_report_counts_for_no_grid_worker() -> None:
    _, facts = run((CaseEventKind.CREATED, {"assigned": assignment("URBAN_MGMT")}))
    assert facts == []


def test_a_rejected_report_counts_against_quality_in_the_month_it_was_reported() -> None:
    _, facts = run(
        (CaseEventKind.CREATED, {"reporter": "W1", "assigned": assignment("URBAN_MGMT")}),
        (CaseEventKind.REJECTED, {"at": T0 + timedelta(days=2), "actor": "CENTER:op1", "state": CaseState.REJECTED}),
    )
    assert named(facts)[-1] == ("report_invalid", "2026-11", None, "W1")  # rejected in December


def test_on_the_spot_names_the_worker_who_handled_it() -> None:
    spot = {"on_the_spot": True, "actor": "W7", "assigned": assignment("GRID", level=Level.GRID)}
    _, facts = run(
        (CaseEventKind.CREATED, {"assigned": assignment("GRID", level=Level.GRID)}),
        (CaseEventKind.DISPATCHED, {"assigned": assignment("GRID", level=Level.GRID)}),
        (CaseEventKind.ACCEPTED, dict(spot)), (CaseEventKind.RESOLVED, dict(spot)), (CaseEventKind.CLOSED, dict(spot)),
    )
    assert named(facts) == [("received", "2026-11", None, None),  # by the grid: counts for its places only
                            ("reported", "2026-11", None, "W7"), ("on_the_spot", "2026-11", None, "W7")]
    assert facts[1].tag == "grid"


def test_department_outcomes_count_for_the_owner_at_the_time() -> None:
    dept = {"assigned": assignment("WATER"), "actor": "WATER"}
    _, facts = run(
        (CaseEventKind.CREATED, {"assigned": assignment("WATER")}),
        (CaseEventKind.DISPATCHED, dict(dept)), (CaseEventKind.RETURNED, dict(dept)),
        (CaseEventKind.DISPATCHED, {"assigned": assignment("URBAN_MGMT")}),
        (CaseEventKind.RESOLVED, {"assigned": assignment("URBAN_MGMT")}),
        (CaseEventKind.REPEAT_REPORTED, {"assigned": assignment("URBAN_MGMT")}),
        (CaseEventKind.RATED, {"assigned": assignment("URBAN_MGMT"), "satisfaction": 4, "actor": "CENTER"}),
    )
    assert [(n, d) for n, _, d, _ in named(facts)] == [
        ("received", "WATER"), ("returned", "WATER"), ("received", "URBAN_MGMT"), ("resolved", "URBAN_MGMT"),
        ("repeat_reported", "URBAN_MGMT"), ("rated", "URBAN_MGMT")]
    assert facts[-1].value == 4


def test_locational_owners_are_places_not_departments() -> None:
    _, facts = run((CaseEventKind.DISPATCHED, {"assigned": assignment("COMMUNITY")}))
    assert facts[0].department is None
    context = CaseContext("C-1", community_id="COMM1", street_id="ST1")
    assert attribute(facts[0], context) == [(EntityType.COMMUNITY, "COMM1"), (EntityType.STREET, "ST1")]
    context = CaseContext("C-1", grid_id="G1", community_id="COMM1", channel="hotline")
    assert attribute(facts[0], context) == [(EntityType.GRID, "G1"), (EntityType.COMMUNITY, "COMM1"),
                                            (EntityType.HOTLINE, "12345")]


def test_verification_time_is_measured_from_resolution_and_a_failed_one_is_rework() -> None:
    owner = {"assigned": assignment("HOUSING")}
    _, facts = run(
        (CaseEventKind.RESOLVED, {**owner, "at": T0}),
        (CaseEventKind.REOPENED, {**owner, "at": T0 + timedelta(hours=3, seconds=1, microseconds=500000),
                                  "actor": "W1", "previous_state": CaseState.RESOLVED}),
        (CaseEventKind.RESOLVED, {**owner, "at": T0 + timedelta(hours=5)}),
        (CaseEventKind.VERIFIED, {**owner, "at": T0 + timedelta(hours=6), "actor": "CENTER:op"}),
    )
    assert named(facts) == [("resolved", "2026-11", "HOUSING", None), ("verify_seconds", "2026-11", None, "W1"),
                            ("reopened", "2026-11", "HOUSING", None), ("resolved", "2026-11", "HOUSING", None)]
    assert facts[1].value == Decimal("10801.5")  # exact seconds; the centre's verification is no worker's


def test_escalation_is_counted_and_the_new_owner_receives_the_case() -> None:
    _, facts = run((CaseEventKind.ESCALATED, {"assigned": assignment("STREET", level=Level.STREET)}),
                   (CaseEventKind.ESCALATED, {"assigned": assignment("EMERGENCY")}))
    assert [(n, d) for n, _, d, _ in named(facts)] == [
        ("received", None), ("escalated", None), ("received", "EMERGENCY"), ("escalated", None)]


def test_sla_met_and_overdue_per_stage_for_the_named_owner() -> None:
    boundary = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    [accept] = from_sla_event(sla_event("C-1", SlaEventKind.MET, SlaStage.ACCEPT, boundary, "POLICE"))
    [late] = from_sla_event(sla_event("C-1", SlaEventKind.OVERDUE, SlaStage.HANDLE, boundary, "POLICE"))
    assert (accept.name, accept.period, accept.department) == (FactName.ACCEPT_MET, "2026-12", "POLICE")
    assert late.name is FactName.HANDLE_OVERDUE
    assert from_sla_event(sla_event("C-1", SlaEventKind.WARNED, SlaStage.ACCEPT, boundary, "POLICE")) == ()
    [street] = from_sla_event(sla_event("C-1", SlaEventKind.MET, SlaStage.ACCEPT, boundary, "STREET"))
    assert street.department is None


def test_the_place_becomes_known_once() -> None:
    first = from_case_event(case_event("C-2", 1, CaseEventKind.CREATED, T0), CaseContext("C-2"))
    assert first.located_now and first.context.channel == "hotline"  # a manual case: its channel, no place yet
    later = from_case_event(case_event("C-2", 2, CaseEventKind.DISPATCHED, T0, assigned=assignment("WATER")),
                            first.context)
    assert later.located_now
    again = from_case_event(case_event("C-2", 3, CaseEventKind.ACCEPTED, T0, assigned=assignment("WATER")),
                            later.context)
    assert not again.located_now


def test_an_enquiry_the_centre_answers_itself_counts_for_the_centre_only() -> None:
    _, facts = run((CaseEventKind.CREATED, {}),
                   (CaseEventKind.ANSWERED, {"actor": "CENTER", "state": CaseState.CLOSED}), only=frozenset(FactName))
    assert [(f.name.value, f.department) for f in facts] == [
        ("case_opened", None), ("case_opened", "CENTER"), ("answered", "CENTER"), ("case_closed", None)]
    assert attribute(facts[2], CaseContext("C-1", community_id="COMM1")) == [(EntityType.CENTER, "CENTER")]


def test_the_centre_is_never_a_department_and_assistance_is_counted_apart_from_lead_work() -> None:
    lead = assignment("WATER").model_copy(update={"assisting": ("HOUSING", "GRID")})
    _, facts = run((CaseEventKind.DISPATCHED, {"assigned": lead}),
                   (CaseEventKind.ACCEPTED, {"assigned": lead, "actor": "WATER"}),
                   (CaseEventKind.DISPATCHED, {"assigned": assignment("CENTER:op")}), only=frozenset(FactName))
    assert [(f.name.value, f.department) for f in facts] == [
        ("received", "WATER"), ("assisted", "HOUSING"), ("received", None)]
    assert attribute(facts[1], None) == [(EntityType.ASSISTING_DEPARTMENT, "HOUSING")]


def test_an_arbitration_ruling_makes_a_return_justified_in_the_month_it_was_returned() -> None:
    returned_at = T0 - timedelta(days=3)
    rulings = (ReturnRuling(department="PARKS", returned_seq=2, returned_at=returned_at, justified=True),
               ReturnRuling(department="HOUSING", returned_seq=4, returned_at=T0, justified=False))
    _, facts = run((CaseEventKind.DISPATCHED, {"assigned": assignment("HOUSING"), "actor": "CENTER:op",
                                               "return_rulings": rulings, "at": T0 + timedelta(days=2)}),
                   only=frozenset({FactName.RETURN_JUSTIFIED}))
    assert named(facts) == [("return_justified", "2026-11", "PARKS", None)]  # ruled in December


def test_a_rating_counts_resolved_from_3_and_satisfied_from_4() -> None:
    for satisfaction, expected in ((2, []), (3, ["rated_resolved"]), (4, ["rated_resolved", "rated_satisfied"])):
        _, facts = run((CaseEventKind.RATED, {"assigned": assignment("WATER"), "satisfaction": satisfaction}),
                       only=frozenset({FactName.RATED_RESOLVED, FactName.RATED_SATISFIED}))
        assert [f.name.value for f in facts] == expected
