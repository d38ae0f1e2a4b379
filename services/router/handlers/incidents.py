"""New incidents from intake.{hotline,grid,wechat}.v1 → a case, dispatched, queued or merged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.batch import Delivery, each
from schemas.case import AnswerRef, CaseEvent, CaseEventKind, CaseState, ReporterRef
from schemas.cloudevents import Outgoing
from schemas.common import Urgency
from schemas.incident import IncidentReported
from services.router.adapters.repository import Near
from services.router.decider.client import Answer
from services.router.decider.wire import unpack
from services.router.domain.case import Case, case_id_for
from services.router.domain.decide import Routing, RoutingTables, route, route_many
from services.router.domain.duplicates import find_duplicate
from services.router.handlers.context import RouterContext
from services.router.handlers.work import CaseWork


async def handle_incidents(
    ctx: RouterContext, conn: asyncpg.Connection, deliveries: Sequence[Delivery]
) -> list[Outgoing]:
    """A poll's new incidents: parsed and decided together (pure, CPU-only: usually done already by
    `prepare_incidents` while the previous batch ran), then the batch's reads in three queries, then
    each incident in order against the batch's state, then one write of everything."""
    tables = ctx.tables.current
    incidents = await each(deliveries, _parse)
    decided = dict(zip(deliveries, zip(incidents, await _route_all(deliveries, incidents, tables, ctx), strict=True),
                       strict=True))
    work = CaseWork(conn)
    near = [Near(r.item.code, r.place.lon, r.place.lat, r.place.grid_id) for _, r in decided.values()
            if r.item is not None and r.place is not None and r.outcome == "dispatch"]
    since = ctx.clock() - ctx.duplicates.window
    await work.preload_incidents([i.incident_id for i, _ in decided.values()], near, since, ctx.duplicates.radius_m)
    # the open cases the batch's repeat reports will join, loaded (locked) in one query rather than one
    # query per merge; a repeat of a case the batch itself opens finds that one in the batch
    await work.preload([found[0].case_id for _, r in decided.values() if r.item is not None
                        and (found := find_duplicate(r, work.open_cases_for_item(r.item.code, since), ctx.duplicates))])
    await each(deliveries, lambda d: handle_incident(ctx, work, *decided[d]))
    return await work.flush()


@dataclass(frozen=True)
class Decided:
    """An incident parsed and routed ahead of its batch, under `tables` (a reload since: routed again)."""

    tables: RoutingTables
    incident: IncidentReported
    routing: Routing


@dataclass(frozen=True)
class Asked:
    """An incident parsed ahead of its batch and sent to the decision worker, under tables of `digest`:
    its routing is `answer`'s `index`-th (an answer that is None, late or of other tables: routed again)."""

    digest: str
    incident: IncidentReported
    answer: Answer
    index: int


def prepare_incidents(ctx: RouterContext, deliveries: Sequence[Delivery]) -> None:
    """The consumer loop's `Preparer` for the intake topics: parse a few deliveries and have them routed
    by the decision worker, or route them here when it cannot take them (pure). A record that does not
    parse is left to the handler, which dead-letters it."""
    tables = ctx.tables.current
    parsed = []
    for d in deliveries:
        with contextlib.suppress(Exception):
            parsed.append((d, d.envelope.payload(IncidentReported)))
    if ctx.decider is not None and parsed:
        answer = ctx.decider.ask(tables.digest, [d.envelope.data for d, _ in parsed])
        if answer is not None:
            for k, (d, incident) in enumerate(parsed):
                d.prepared = Asked(tables.digest, incident, answer, k)
            return
    for (d, incident), routing in zip(parsed, route_many([i for _, i in parsed], tables), strict=True):
        d.prepared = Decided(tables, incident, routing)


async def _parse(delivery: Delivery) -> IncidentReported:
    if isinstance(done := delivery.prepared, Decided | Asked):
        return done.incident
    return delivery.envelope.payload(IncidentReported)


async def _route_all(deliveries: Sequence[Delivery], incidents: Sequence[IncidentReported],
                     tables: RoutingTables, ctx: RouterContext | None = None) -> list[Routing]:
    """The routings decided ahead under these tables (here or by the worker), `route_many` over the rest;
    should it fail, one by one, so that the failure names its record."""
    known = {d: done.routing for d in deliveries
             if isinstance(done := d.prepared, Decided) and done.tables is tables}
    if ctx is not None:
        known.update(await _from_worker(ctx, deliveries, tables))
    rest = [(d, i) for d, i in zip(deliveries, incidents, strict=True) if d not in known]
    if rest:
        known.update(zip((d for d, _ in rest), await _route_rest(rest, tables), strict=True))
    return [known[d] for d in deliveries]


async def _from_worker(ctx: RouterContext, deliveries: Sequence[Delivery],
                       tables: RoutingTables) -> dict[Delivery, Routing]:
    """The worker's routings for deliveries asked under these tables, waiting for them up to the context's
    timeout (past it the worker is taken for stuck and started again)."""
    asked = [(d, a) for d in deliveries if isinstance(a := d.prepared, Asked) and a.digest == tables.digest]
    if not asked:
        return {}
    _, late = await asyncio.wait({a.answer for _, a in asked}, timeout=ctx.decider_timeout)
    if late and ctx.decider is not None:
        ctx.decider.late()
    routings = {}
    for d, a in asked:
        if a.answer.done() and (packed := a.answer.result()) is not None:
            with contextlib.suppress(LookupError):  # an item these tables do not hold: routed again
                routings[d] = unpack(packed[a.index], tables)
    return routings


async def _route_rest(rest: Sequence[tuple[Delivery, IncidentReported]], tables: RoutingTables) -> list[Routing]:
    try:
        return route_many([i for _, i in rest], tables)
    except Exception:
        by_delivery = dict(rest)

        async def one(d: Delivery) -> Routing:
            return route(by_delivery[d], tables)

        return await each([d for d, _ in rest], one)


async def handle_incident(ctx: RouterContext, work: CaseWork, incident: IncidentReported, routing: Routing) -> None:
    """One incident → a case, dispatched, queued or merged into an open case of the same item nearby."""
    if work.has_case_for(incident.incident_id):
        return  # the same incident re-published under another ce_id
    now = ctx.clock()
    case = _new_case(incident, routing)
    reporter = ReporterRef(kind=incident.reporter.kind, id=incident.reporter.id)
    events = [case.record(CaseEventKind.CREATED, CaseState.REPORTED, at=incident.received_at, actor="router",
                          explanation=routing.explanation, reporter=reporter)]
    if routing.item is not None and routing.outcome == "dispatch":
        nearby = work.open_cases_for_item(routing.item.code, now - ctx.duplicates.window)
        found = find_duplicate(routing, nearby, ctx.duplicates)
        if found is not None:
            target, distance = found
            await _merge(work, case, target, distance, events)
            return
    events.extend(_first_moves(case, routing, incident, now))
    work.save(case, events)
    work.publish(events)


def _new_case(incident: IncidentReported, routing: Routing) -> Case:
    place = routing.place
    return Case(
        case_id=case_id_for(incident.incident_id), incident_id=incident.incident_id, channel=incident.channel,
        state=CaseState.REPORTED, text=incident.text, urgency=_urgency(incident, routing),
        citizen=incident.reporter.kind == "citizen", opened_at=incident.received_at, updated_at=incident.received_at,
        assignment=routing.assignment, deadlines=routing.deadlines, list_version=routing.list_version,
        model_version=routing.model_version,
        grid_worker=place.worker_id if place else None,
        lon=place.lon if place else (incident.location.point.lon if incident.location.point else None),
        lat=place.lat if place else (incident.location.point.lat if incident.location.point else None),
        candidates=list(routing.candidates), explanation=routing.explanation,
        reporters=[incident.reporter.model_dump(mode="json") | {"incident_id": incident.incident_id}],
    )


def _urgency(incident: IncidentReported, routing: Routing) -> str:
    """Detected danger raises a normal report to urgent (the centre sees the flag, the SLA the tighter clock)."""
    if routing.urgent and incident.urgency is Urgency.NORMAL:
        return Urgency.URGENT.value
    return incident.urgency.value


def _answered(case: Case, routing: Routing, at: datetime) -> list[CaseEvent]:
    """直接答复: the centre answers the enquiry from the knowledge base and closes the case."""
    assert routing.answer is not None
    entry = routing.answer
    answer = AnswerRef(entry_id=entry.id, source=entry.source, text=entry.answer,
                       valid_from=entry.valid_from.isoformat(),
                       valid_until=entry.valid_until.isoformat() if entry.valid_until else None)
    return [case.record(CaseEventKind.ANSWERED, CaseState.CLOSED, at=at, actor="CENTER",
                        reason=f"answered directly (直接答复): {entry.topic}", answer=answer)]


def _first_moves(case: Case, routing: Routing, incident: IncidentReported, at: datetime) -> list[CaseEvent]:
    if routing.outcome == "answered" and routing.answer is not None:
        return _answered(case, routing, at)
    if routing.outcome == "manual" or case.assignment is None:
        why = str(routing.explanation.get("why_manual", "needs a person to route it"))
        return [case.record(CaseEventKind.QUEUED_MANUAL, CaseState.MANUAL, at=at, actor="router", reason=why)]
    case.tried.append(case.assignment.owner)
    on_the_spot = routing.outcome == "on_the_spot" and incident.on_the_spot is not None
    dispatched = case.record(CaseEventKind.DISPATCHED, CaseState.DISPATCHED, at=at, actor="router",
                             reason=f"item {case.assignment.item_code}", explanation=routing.explanation,
                             on_the_spot=on_the_spot)
    if not on_the_spot or incident.on_the_spot is None:
        return [dispatched]
    # 自行处置: handled on the spot by the reporting grid worker — closed at once, still counted.
    worker = incident.reporter.id or "GRID"
    evidence = tuple(str(u) for u in incident.on_the_spot.evidence_urls)
    return [
        dispatched,
        case.record(CaseEventKind.ACCEPTED, CaseState.ACCEPTED, at=at, actor=worker, on_the_spot=True),
        case.record(CaseEventKind.RESOLVED, CaseState.RESOLVED, at=at, actor=worker, on_the_spot=True,
                    evidence_urls=evidence, reason="handled on the spot (自行处置)"),
        case.record(CaseEventKind.CLOSED, CaseState.CLOSED, at=at, actor=worker, on_the_spot=True,
                    reason="handled on the spot (自行处置)"),
    ]


async def _merge(work: CaseWork, case: Case, target: Case, distance: float, events: list[CaseEvent]) -> None:
    """The duplicate gets its own (closed) record pointing at the open case; its reporter joins that case."""
    locked = await work.load(target.case_id)
    assert locked is not None
    reason = f"重复件: same item {target.assignment.item_code if target.assignment else ''} {distance:.0f} m away"
    events.append(case.record(CaseEventKind.MERGED, CaseState.MERGED, at=case.opened_at, actor="router",
                              reason=reason, merged_into=target.case_id))
    locked.reporters.extend(case.reporters)
    locked.merged_count += 1
    repeat = locked.record(CaseEventKind.REPEAT_REPORTED, locked.state, at=case.opened_at, actor="router",
                           reason=f"repeat report {case.incident_id} ({distance:.0f} m)",
                           reporter=events[0].reporter)
    work.save(case, events)
    work.save(locked, [repeat])
    work.merged(case.incident_id, locked.case_id, case.opened_at)
    work.publish([*events, repeat])
