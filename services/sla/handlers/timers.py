"""The durable timer: due stages are claimed from PostgreSQL a batch at a time (`FOR UPDATE SKIP LOCKED`,
so several replicas share the work), decided in Python, and the batch's stages, cases, documents and
outbox rows are written in the one transaction that claimed them — a handful of statements per batch,
whatever its size. A crash before the commit gives the whole batch back (numbers included); the replay
produces the same event ids (the outbox ignores them), so each deadline fires once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from opentelemetry import trace

from runtime.outbox import outbox_columns
from runtime.telemetry import inject_headers
from schemas.cloudevents import Outgoing
from schemas.sla import SlaEvent, SlaEventKind
from services.sla.adapters import repository as repo
from services.sla.domain.deadlines import CaseClocks, Deadline
from services.sla.domain.documents import IssuedDocument, issue, year_of
from services.sla.domain.escalation import Document
from services.sla.domain.stages import recompute
from services.sla.domain.timers import tick
from services.sla.handlers.context import SlaContext, publish_later, sla_records, trace_of

tracer = trace.get_tracer("gridline.sla.timer")


@dataclass
class _Fired:
    """One claimed stage and the events its tick decided."""

    case: CaseClocks
    deadline: Deadline
    events: list[SlaEvent]


async def fire_due(ctx: SlaContext, now: datetime) -> int:
    """Fire every warning and deadline due at `now` (injected: tests pass a clock in the future), a batch
    per transaction, batch after batch while they come back full, on one connection (each return to the
    pool costs a round trip: its reset). Returns the number of SLA events written."""
    written = 0
    async with ctx.pool.acquire() as conn:
        while True:
            claimed, events = await _fire_batch(ctx, conn, now)
            written += events
            if claimed < ctx.timer_batch:
                break
    if written:
        ctx.kick()
    return written


async def _fire_batch(ctx: SlaContext, conn: asyncpg.Connection, now: datetime) -> tuple[int, int]:
    """One batch: claim, decide, write, commit. Returns (stages claimed, events written)."""
    with tracer.start_as_current_span("sla timer batch") as span:
        async with conn.transaction():
            batch = await repo.due(conn, now, ctx.timer_batch)
            fired = [_Fired(case, d, []) for case, d in batch]
            touched: list[Deadline] = []
            escalated: list[CaseClocks] = []
            for f in fired:
                escalations = f.case.escalations
                change = tick(f.case, f.deadline, now, ctx.rules)
                f.events = change.events
                touched.extend(change.touched)
                if f.case.escalations != escalations:
                    escalated.append(f.case)
            documents = await _issue_documents(ctx, conn, fired)
            records = _records(fired)
            await repo.save_fired(conn, touched, escalated, documents, await outbox_columns(conn, records))
            ctx.chaos("in_transaction", len(batch))
        ctx.chaos("after_db_commit", len(batch))
        span.set_attribute("sla.claimed", len(batch))
        span.set_attribute("sla.events", len(records))
    return len(batch), len(records)


def _records(fired: list[_Fired]) -> list[Outgoing]:
    """The batch's outbox records. Each case's events continue the trace of the last case event sla
    applied to it (stored on the case); a case without one joins the batch's span."""
    batch_trace = inject_headers()
    records: list[Outgoing] = []
    for f in fired:
        if f.events:
            records += sla_records(f.events, trace_of(f.case.traceparent, f.case.tracestate) or batch_trace)
    return records


async def _issue_documents(ctx: SlaContext, conn: asyncpg.Connection, fired: list[_Fired]) -> list[IssuedDocument]:
    """Every escalation decision of the batch issues its document (numbered, its text on the event) in the
    transaction that decides it: numbers for the whole batch are reserved in one statement, in the batch's
    order, and a rolled-back batch issues nothing."""
    paper = ctx.paperwork
    if paper is None:
        return []
    wanted = [(f, i, e) for f in fired for i, e in enumerate(f.events)
              if e.kind is SlaEventKind.ESCALATION_DECIDED and e.document and e.to_level is not None]
    if not wanted:
        return []
    counts = Counter((year_of(e.at), e.document) for _, _, e in wanted if e.document)
    serials = await repo.reserve_serials(conn, paper.district_code, dict(counts))
    documents = []
    for f, i, e in wanted:
        assert e.document is not None and e.to_level is not None  # selected above
        key = (year_of(e.at), e.document)
        serial, serials[key] = serials[key], serials[key] + 1
        doc = issue(Document(e.document), serial, district_code=paper.district_code,
                    district_name=paper.district_name, d=f.deadline, decision=e.event_id, to_level=e.to_level,
                    at=e.at, templates=paper.templates)
        documents.append(doc)
        f.events[i] = e.model_copy(update={"document_id": doc.doc_id, "document_no": doc.doc_no,
                                           "document_text": doc.text})
    return documents


async def recompute_provisional(ctx: SlaContext, now: datetime) -> int:
    """Deadlines computed without a year's official calendar data, again on today's calendar (run at
    start: a new calendar arrives with a new `holidays` release or an operator's year file). Returns the
    number of deadlines that moved."""
    done, after = 0, ""
    while True:
        async with ctx.pool.acquire() as conn, conn.transaction():
            batch = await repo.provisional_open(conn, after, ctx.timer_batch)
            touched: list[Deadline] = []
            events: list[SlaEvent] = []
            for _, deadline in batch:
                change = recompute(deadline, now, ctx.rules)
                touched += change.touched
                events += change.events
            await repo.save_cases(conn, [case for case, _ in batch], touched)
            await publish_later(conn, events)
            done += len(events)
        if len(batch) < ctx.timer_batch:
            break
        after = batch[-1][0].case_id
    if done:
        ctx.kick()
    return done


async def run_timer(ctx: SlaContext, stop: asyncio.Event, interval: float) -> None:
    """Fire what is due, then sleep until the next warning or deadline comes due — at most `interval`
    (a deadline the consumer sets meanwhile is seen within it), never while one is already waiting.
    A due row another replica holds is left to it: then the timer looks again after `interval`."""
    while not stop.is_set():
        now = ctx.clock()
        await fire_due(ctx, now)
        async with ctx.pool.acquire() as conn:
            upcoming = await repo.next_due(conn)
        wait = interval
        if upcoming is not None and upcoming > now:
            wait = min(interval, max(0.0, (upcoming - ctx.clock()).total_seconds()))
        if wait <= 0:
            continue
        try:
            await asyncio.wait_for(stop.wait(), wait)
        except TimeoutError:
            pass
