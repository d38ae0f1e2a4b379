"""Handlers for case.events.v1 and sla.events.v1: fold each event into the read model, then notify
(the live hub hears of it as the batch is applied, a moment before the batch commits)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from schemas.case import CaseEvent
from schemas.cloudevents import Envelope, Outgoing
from schemas.sla import SlaEvent, SlaEventKind
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.console.adapters import repository as repo
from services.console.adapters.live import Hub
from services.console.domain.readmodel import apply_case_event, apply_sla_event


@dataclass
class ConsoleContext:
    pool: asyncpg.Pool
    hub: Hub


async def handle_case_event(ctx: ConsoleContext, conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    """Inside the poll batch's transaction (runtime.batch.per_record; the inbox already passed it)."""
    event = envelope.payload(CaseEvent)
    row = apply_case_event(await repo.case_row(conn, event.case_id), event)
    if row is None:
        return []
    await repo.save_case(conn, row)
    ctx.hub.publish({"topic": CASE_EVENTS, "case_id": event.case_id, "kind": event.kind.value, "state": row.state,
                     "owner": row.owner, "owner_unit": row.owner_unit})
    return []


async def handle_sla_event(ctx: ConsoleContext, conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    event = envelope.payload(SlaEvent)
    await repo.save_clock(conn, apply_sla_event(await repo.clock(conn, event.case_id), event))
    if event.kind is SlaEventKind.ESCALATION_DECIDED and event.document:
        await repo.add_document(conn, event.event_id, event.case_id, event.document,
                                event.to_level.value if event.to_level else None, event.owner, event.reason,
                                event.at)
    ctx.hub.publish({"topic": SLA_EVENTS, "case_id": event.case_id, "kind": event.kind.value, "owner": event.owner})
    return []
