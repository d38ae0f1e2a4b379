"""What every sla handler works with; built once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.outbox import OutboxRelay, enqueue
from runtime.telemetry import inject_headers
from schemas.cloudevents import Outgoing, encode
from schemas.sla import SlaEvent
from schemas.topics import SLA_EVENTS, sla_type
from services.sla.domain.deadlines import Rules

SOURCE = "/gridline/sla"


@dataclass
class SlaContext:
    pool: asyncpg.Pool
    rules: Rules
    relay: OutboxRelay | None
    clock: Callable[[], datetime]
    timer_batch: int = 200

    def kick(self) -> None:
        if self.relay is not None:
            self.relay.kick.set()


def sla_records(events: Sequence[SlaEvent]) -> list[Outgoing]:
    """SLA events as outbox records: keyed by case id (per-case order), stable ce_id."""
    trace = inject_headers()
    return [
        encode(SLA_EVENTS, e.case_id, e, type=sla_type(e.kind.value), source=SOURCE, subject=e.case_id,
               event_id=e.event_id, time=e.at, trace_headers=trace)
        for e in events
    ]


async def publish_later(conn: asyncpg.Connection, events: Sequence[SlaEvent]) -> None:
    await enqueue(conn, sla_records(events))
