"""From one event (and what is known about its case) to the facts it establishes.

Pure: the handler loads the case context, calls these, and stores what they return in the same
transaction as the inbox row, so a redelivered event can never add a fact twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from schemas.case import CaseEvent, CaseEventKind, CaseState
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from services.scoring.domain.facts import (
    CENTRE,
    CaseContext,
    Fact,
    FactName,
    is_centre,
    is_department,
    place_keys,
)
from services.scoring.domain.periods import period_of
from services.scoring.domain.repeats import Closure, Opening

GRID_WORKER = "grid_worker"
RESOLVED_FROM = 3  # 解决: the router closes a case rated 3 or more as the citizen's "resolved"
SATISFIED_FROM = 4  # 满意 (5) and 基本满意 (4); 3 is 一般, 2 不满意, 1 很不满意
_SLA_FACTS = {
    (SlaStage.ACCEPT, SlaEventKind.MET): FactName.ACCEPT_MET,
    (SlaStage.ACCEPT, SlaEventKind.OVERDUE): FactName.ACCEPT_OVERDUE,
    (SlaStage.HANDLE, SlaEventKind.MET): FactName.HANDLE_MET,
    (SlaStage.HANDLE, SlaEventKind.OVERDUE): FactName.HANDLE_OVERDUE,
}


@dataclass(frozen=True)
class Derived:
    context: CaseContext
    facts: tuple[Fact, ...]
    located_now: bool = False  # the case's places (or its channel) became known or changed with this event
    opening: Opening | None = None  # a new case with item and grid: may repeat a closed one
    closure: Closure | None = None  # a closed case with item and grid: later cases may repeat it


def reporter_of(event: CaseEvent) -> str | None:
    """The reporting grid worker: `CaseEvent.reporter` on `created` (older events carried it in the
    routing explanation). On-the-spot cases also name the worker as the actor of `accepted`/`closed`."""
    if event.reporter is not None:
        return event.reporter.id if event.reporter.kind == GRID_WORKER and event.reporter.id else None
    found = (event.explanation or {}).get("reporter")
    if isinstance(found, dict) and found.get("kind") == GRID_WORKER and isinstance(found.get("id"), str):
        return str(found["id"])
    return None


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact elapsed seconds (microsecond resolution), never a float."""
    delta = end - start
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def from_case_event(event: CaseEvent, known: CaseContext | None) -> Derived:
    ctx = replace(known) if known is not None else CaseContext(case_id=event.case_id)
    counted_for = place_keys(ctx)
    if event.assignment is not None:
        a = event.assignment
        if a.grid_id and ctx.grid_id and a.grid_id != ctx.grid_id:
            # moved (the centre corrected where it is): the case and all its facts count at its new place
            ctx.grid_id, ctx.community_id, ctx.street_id = a.grid_id, a.community_id, a.street_id
        else:
            ctx.grid_id = ctx.grid_id or a.grid_id
            ctx.community_id = ctx.community_id or a.community_id
            ctx.street_id = ctx.street_id or a.street_id
        ctx.item_code = a.item_code or ctx.item_code
    ctx.channel = ctx.channel or (event.channel.value if event.channel is not None else None)
    period = period_of(event.at)
    owner = event.assignment.owner if event.assignment is not None else None
    department = owner if is_department(owner) else None
    facts: list[Fact] = []

    def fact(name: FactName, *, value: Decimal = Decimal(1), tag: str = "", department: str | None = None,
             worker: str | None = None, in_period: str | None = None) -> None:
        facts.append(Fact(name=name, case_id=event.case_id, period=in_period or period, value=value, tag=tag,
                          department=department, worker=worker, at=event.at))

    kind = event.kind
    opening: Opening | None = None
    closure: Closure | None = None
    if kind is CaseEventKind.CREATED:
        ctx.reported_period = period
        ctx.level = event.assignment.level.value if event.assignment is not None else None
        ctx.reporter = reporter_of(event)
        fact(FactName.CASE_OPENED)
        fact(FactName.CASE_OPENED, department=CENTRE)  # every case passes the centre (直接办结's denominator)
        if ctx.reporter:
            fact(FactName.REPORTED, tag=ctx.level or "", worker=ctx.reporter)
        if ctx.item_code and ctx.grid_id:
            opening = Opening(event.case_id, ctx.item_code, ctx.grid_id, event.at)
    elif event.on_the_spot and kind in (CaseEventKind.ACCEPTED, CaseEventKind.CLOSED):
        if ctx.reporter is None and not is_centre(event.actor):
            ctx.reporter = event.actor  # 自行处置: the worker who handled it is the one who reported it
            fact(FactName.REPORTED, tag=ctx.level or "", worker=ctx.reporter, in_period=ctx.reported_period)
        if kind is CaseEventKind.CLOSED:
            fact(FactName.ON_THE_SPOT, worker=event.actor)
            fact(FactName.CASE_CLOSED, in_period=ctx.reported_period)
    elif kind in (CaseEventKind.DISPATCHED, CaseEventKind.ESCALATED):
        fact(FactName.RECEIVED, department=department)
        for assisting in _assisting(event):
            fact(FactName.ASSISTED, department=assisting)
        for ruling in event.return_rulings:
            if ruling.justified and is_department(ruling.department):
                fact(FactName.RETURN_JUSTIFIED, department=ruling.department, in_period=period_of(ruling.returned_at))
        if kind is CaseEventKind.ESCALATED:
            fact(FactName.ESCALATED)
            if not ctx.escalated:
                ctx.escalated = True
                fact(FactName.CASE_ESCALATED, in_period=ctx.reported_period)
    elif kind is CaseEventKind.RETURNED:
        fact(FactName.RETURNED, department=department)
    elif kind is CaseEventKind.RESOLVED and not event.on_the_spot:
        ctx.resolved_at = event.at
        ctx.handled_by = department or ctx.handled_by
        fact(FactName.RESOLVED, department=department)
    elif kind in (CaseEventKind.VERIFIED, CaseEventKind.REOPENED):
        verification = kind is CaseEventKind.VERIFIED or event.previous_state is CaseState.RESOLVED
        if verification and ctx.resolved_at is not None and not is_centre(event.actor):
            fact(FactName.VERIFY_SECONDS, value=seconds_between(ctx.resolved_at, event.at), worker=event.actor)
        if kind is CaseEventKind.REOPENED:
            fact(FactName.REOPENED, department=department)
    elif kind is CaseEventKind.RATED and event.satisfaction is not None:
        fact(FactName.RATED, value=Decimal(event.satisfaction), department=department)
        if event.satisfaction >= RESOLVED_FROM:
            fact(FactName.RATED_RESOLVED, department=department)
        if event.satisfaction >= SATISFIED_FROM:
            fact(FactName.RATED_SATISFIED, department=department)
    elif kind is CaseEventKind.CLOSED:
        fact(FactName.CASE_CLOSED, in_period=ctx.reported_period)
        fact(FactName.CLOSED, department=ctx.handled_by)
        if ctx.item_code and ctx.grid_id:
            closure = Closure(event.case_id, ctx.item_code, ctx.grid_id, event.at, period, ctx.handled_by)
    elif kind is CaseEventKind.ANSWERED:  # 直接答复: the centre answered the enquiry itself; the case closes
        fact(FactName.ANSWERED, department=CENTRE, in_period=ctx.reported_period)
        fact(FactName.CASE_CLOSED, in_period=ctx.reported_period)
    elif kind is CaseEventKind.REPEAT_REPORTED:
        fact(FactName.REPEAT_REPORTED, department=department)
    if kind in (CaseEventKind.REJECTED, CaseEventKind.MERGED) and ctx.reporter:
        # the outcome of a report counts in the month of the report, so quality is a share of that month
        fact(FactName.REPORT_INVALID, worker=ctx.reporter, in_period=ctx.reported_period)
    located_now = place_keys(ctx) != counted_for
    return Derived(ctx, tuple(facts), located_now, opening, closure)


def _assisting(event: CaseEvent) -> tuple[str, ...]:
    """协办 departments named on a dispatch (later events repeat them: only `dispatched` counts)."""
    if event.kind is not CaseEventKind.DISPATCHED or event.assignment is None:
        return ()
    return tuple(d for d in event.assignment.assisting if is_department(d))


def from_sla_event(event: SlaEvent) -> tuple[Fact, ...]:
    """签收/办结 timeliness: `met` or `overdue` of a stage, for the owner named on the SLA event."""
    name = _SLA_FACTS.get((event.stage, event.kind))
    if name is None:
        return ()
    department = event.owner if is_department(event.owner) else None
    return (Fact(name=name, case_id=event.case_id, period=period_of(event.at), department=department, at=event.at),)
