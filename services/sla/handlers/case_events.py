"""case.events.v1 → stage clocks. Inbox, state and outbox in one transaction: exactly-once effects."""

from __future__ import annotations

from runtime.consumer import Rejected
from schemas.case import CaseEvent
from schemas.cloudevents import Envelope
from services.sla.adapters import repository as repo
from services.sla.domain.calendar import CalendarError
from services.sla.domain.stages import on_case_event
from services.sla.handlers.context import SlaContext, publish_later


async def handle_case_event(ctx: SlaContext, envelope: Envelope, topic: str) -> None:
    event: CaseEvent = envelope.payload(CaseEvent)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await repo.first_time(conn, envelope.id, topic):
            return
        case = await repo.load_case(conn, event.case_id)
        try:
            change = on_case_event(case, event, ctx.rules, event.urgency)
        except (ValueError, CalendarError) as exc:
            raise Rejected(f"case {event.case_id} seq {event.seq}: {exc}") from exc
        if change.stale:
            return  # the inbox row stays: this delivery is done
        await repo.save_case(conn, case, change.touched)
        await publish_later(conn, change.events)
    ctx.kick()
