"""case.events.v1 → stage clocks. A poll's events are applied in one transaction with the inbox and the
outbox (runtime.consumer): their cases are loaded once (locked), each event moves its case's clocks in
order, and the batch's cases and stages are written together: exactly-once effects, few round trips."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from runtime.batch import Delivery, Rejected, each
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing
from services.sla.adapters import repository as repo
from services.sla.domain.calendar import CalendarError
from services.sla.domain.deadlines import CaseClocks, Change, Deadline
from services.sla.domain.stages import on_case_event
from services.sla.handlers.context import SlaContext, sla_records


async def handle_case_events(
    ctx: SlaContext, conn: asyncpg.Connection, deliveries: Sequence[Delivery]
) -> list[Outgoing]:
    events = dict(zip(deliveries, await each(deliveries, _parse), strict=True))
    cases = await repo.load_cases(conn, [e.case_id for e in events.values()])
    changed: dict[str, CaseClocks] = {}
    touched: list[Deadline] = []
    outgoing: list[Outgoing] = []

    async def one(delivery: Delivery) -> None:
        event = events[delivery]
        case = cases[event.case_id]
        change = handle_case_event(ctx, case, event)
        if change.stale:
            return  # the inbox row stays: this delivery is done
        changed[case.case_id] = case
        case.traceparent, case.tracestate = delivery.envelope.traceparent, delivery.envelope.tracestate
        touched.extend(change.touched)
        outgoing.extend(sla_records(change.events))

    await each(deliveries, one)
    await repo.save_cases(conn, list(changed.values()), touched)
    return outgoing


async def _parse(delivery: Delivery) -> CaseEvent:
    return delivery.envelope.payload(CaseEvent)


def handle_case_event(ctx: SlaContext, case: CaseClocks, event: CaseEvent) -> Change:
    """One case event against the case's clocks (stale when delivered again, or overtaken)."""
    try:
        return on_case_event(case, event, ctx.rules, event.urgency)
    except (ValueError, CalendarError) as exc:
        raise Rejected(f"case {event.case_id} seq {event.seq}: {exc}") from exc

