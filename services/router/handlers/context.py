"""What every router handler works with; built once in bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.outbox import OutboxRelay, enqueue
from runtime.telemetry import inject_headers
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing, encode
from schemas.topics import CASE_EVENTS, case_type
from services.router.domain.decide import RoutingTables
from services.router.domain.duplicates import DuplicatePolicy

SOURCE = "/gridline/router"


class TablesHolder:
    """The current routing tables; a reload swaps them atomically (in-flight decisions keep theirs)."""

    def __init__(self, tables: RoutingTables) -> None:
        self.current = tables


@dataclass
class RouterContext:
    pool: asyncpg.Pool
    tables: TablesHolder
    relay: OutboxRelay | None
    clock: Callable[[], datetime]
    duplicates: DuplicatePolicy

    def kick(self) -> None:
        if self.relay is not None:
            self.relay.kick.set()


def case_records(events: Sequence[CaseEvent]) -> list[Outgoing]:
    """Case events as outbox records: keyed by case id, stable ce_id, current trace context."""
    trace = inject_headers()
    return [
        encode(CASE_EVENTS, e.case_id, e, type=case_type(e.kind.value), source=SOURCE, subject=e.case_id,
               event_id=e.event_id, time=e.at, trace_headers=trace)
        for e in events
    ]


async def publish_later(conn: asyncpg.Connection, events: Sequence[CaseEvent], extra: Sequence[Outgoing] = ()) -> None:
    await enqueue(conn, [*case_records(events), *extra])
