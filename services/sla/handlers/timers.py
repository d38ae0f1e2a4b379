"""The durable timer: due stages are read from PostgreSQL, decided, and their events written to the
outbox in the transaction that marks them — a crash between the two is impossible, and a replay after
one produces the same event ids (the outbox ignores them)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
from opentelemetry import trace

from runtime.outbox import enqueue
from runtime.telemetry import context_from_traceparent
from schemas.cloudevents import Outgoing
from schemas.sla import SlaEvent, SlaEventKind
from services.sla.adapters import repository as repo
from services.sla.domain.deadlines import Deadline
from services.sla.domain.documents import issue, year_of
from services.sla.domain.escalation import Document
from services.sla.domain.stages import recompute
from services.sla.domain.timers import tick
from services.sla.handlers.context import SlaContext, publish_later, sla_records

tracer = trace.get_tracer("gridline.sla.timer")


async def fire_due(ctx: SlaContext, now: datetime) -> int:
    """Fire every warning and deadline due at `now` (injected: tests pass a clock in the future).
    Returns the number of SLA events written."""
    written = 0
    while True:
        async with ctx.pool.acquire() as conn, conn.transaction():
            batch = await repo.due(conn, now, ctx.timer_batch)
            touched: list[Deadline] = []
            records: list[Outgoing] = []
            for case, deadline in batch:
                parent = context_from_traceparent(case.traceparent, case.tracestate)
                with tracer.start_as_current_span("sla timer fire", context=parent,
                                                  attributes={"case_id": case.case_id, "stage": deadline.stage}):
                    change = tick(case, deadline, now, ctx.rules)
                    events = [await _with_document(ctx, conn, deadline, e) for e in change.events]
                    records += sla_records(events)  # under the span: they continue the case's trace
                touched += change.touched
                written += len(events)
            await repo.save_cases(conn, [case for case, _ in batch], touched)  # the batch in two statements
            await enqueue(conn, records)
        if len(batch) < ctx.timer_batch:
            break
    if written:
        ctx.kick()
    return written


async def _with_document(ctx: SlaContext, conn: asyncpg.Connection, d: Deadline, event: SlaEvent) -> SlaEvent:
    """An escalation decision issues its document (numbered, stored, its text on the event) in the
    transaction that decides it: one document per decision, never two."""
    if event.kind is not SlaEventKind.ESCALATION_DECIDED or not event.document or ctx.paperwork is None \
            or event.to_level is None:
        return event
    paper, kind = ctx.paperwork, Document(event.document)
    serial = await repo.next_serial(conn, paper.district_code, year_of(event.at), kind.value)
    doc = issue(kind, serial, district_code=paper.district_code, district_name=paper.district_name, d=d,
                decision=event.event_id, to_level=event.to_level, at=event.at, templates=paper.templates)
    await repo.save_document(conn, doc)
    return event.model_copy(update={"document_id": doc.doc_id, "document_no": doc.doc_no, "document_text": doc.text})


async def recompute_provisional(ctx: SlaContext, now: datetime) -> int:
    """Deadlines computed without a year's official calendar data, again on today's calendar (run at
    start: a new calendar arrives with a new `holidays` release or an operator's year file). Returns the
    number of deadlines that moved."""
    done, after = 0, ""
    while True:
        async with ctx.pool.acquire() as conn, conn.transaction():
            batch = await repo.provisional_open(conn, after, ctx.timer_batch)
            for case, deadline in batch:
                change = recompute(deadline, now, ctx.rules)
                await repo.save_case(conn, case, change.touched)
                await publish_later(conn, change.events)
                done += len(change.events)
        if len(batch) < ctx.timer_batch:
            break
        after = batch[-1][0].case_id
    if done:
        ctx.kick()
    return done


async def run_timer(ctx: SlaContext, stop: asyncio.Event, interval: float) -> None:
    """Check the clocks every `interval` seconds until stopped."""
    while not stop.is_set():
        await fire_due(ctx, ctx.clock())
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
