"""Handlers for case.events.v1 and sla.events.v1: fold a poll's events into the read model.

They run inside the consumer loop's transaction (runtime.consumer: inbox, handlers, commit). The live
notice for each applied event is a PostgreSQL NOTIFY in that same transaction, so pages hear of a
change only once it is committed (and every console instance hears it)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from runtime.batch import Delivery, each
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing
from schemas.sla import SlaEvent, SlaEventKind
from services.console.adapters import repository as repo
from services.console.adapters.live import CHANNEL
from services.console.domain.readmodel import apply_case_event, apply_sla_event


async def handle_case_events(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Outgoing]:
    async def one(delivery: Delivery) -> None:
        event = delivery.envelope.payload(CaseEvent)
        row = apply_case_event(await repo.case_row(conn, event.case_id), event)
        if row is None:
            return  # stale or delivered again
        await repo.save_case(conn, row)
        await _notify(conn, {"topic": delivery.topic, "case_id": event.case_id, "kind": event.kind.value,
                             "state": row.state, "owner": row.owner, "owner_unit": row.owner_unit})

    await each(deliveries, one)
    return []


async def handle_sla_events(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Outgoing]:
    """The loop's inbox has already dropped redeliveries, so set-valued folding is exact."""

    async def one(delivery: Delivery) -> None:
        event = delivery.envelope.payload(SlaEvent)
        await repo.save_clock(conn, apply_sla_event(await repo.clock(conn, event.case_id), event))
        if event.kind is SlaEventKind.ESCALATION_DECIDED and event.document:
            await repo.add_document(conn, event.event_id, event.case_id, event.document,
                                    event.to_level.value if event.to_level else None, event.owner, event.reason,
                                    event.at)
        await _notify(conn, {"topic": delivery.topic, "case_id": event.case_id, "kind": event.kind.value,
                             "owner": event.owner})

    await each(deliveries, one)
    return []


async def _notify(conn: asyncpg.Connection, notice: dict[str, object]) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(notice, ensure_ascii=False))
