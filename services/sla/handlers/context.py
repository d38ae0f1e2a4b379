"""What every sla handler works with; built once in bootstrap."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.outbox import OutboxRelay, case_records, enqueue
from schemas.cloudevents import Outgoing
from schemas.sla import SlaEvent
from schemas.topics import SLA_EVENTS, sla_type
from services.sla.domain.deadlines import Rules
from services.sla.domain.documents import Templates

SOURCE = "/gridline/sla"


@dataclass(frozen=True)
class Paperwork:
    """How 两函一单 are numbered and printed."""

    district_code: str
    district_name: str
    templates: Templates


@dataclass
class SlaContext:
    pool: asyncpg.Pool
    rules: Rules
    relay: OutboxRelay | None
    clock: Callable[[], datetime]
    timer_batch: int = 200
    paperwork: Paperwork | None = None  # None: documents are not issued (unit-level wiring only)
    chaos: Callable[[str, int], None] = lambda stage, size: None  # fault injection (runtime.chaos)

    def kick(self) -> None:
        if self.relay is not None:
            self.relay.kick.set()


def sla_records(events: Sequence[SlaEvent], trace: Sequence[tuple[str, bytes]] | None = None) -> list[Outgoing]:
    """SLA events as outbox records: keyed by case id (per-case order), stable ce_id; in the trace given
    (headers) or else the current one."""
    return case_records(SLA_EVENTS, events, type_of=sla_type, source=SOURCE, trace=trace)


_TRACEPARENT = re.compile(r"^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_of(traceparent: str | None, tracestate: str | None) -> list[tuple[str, bytes]] | None:
    """The trace headers that continue a stored W3C trace context (None: there is none, or it is not a
    valid `traceparent`). Checked by its format, not through the propagator: the timer does this per case."""
    if not traceparent or not _TRACEPARENT.match(traceparent):
        return None
    return [("traceparent", traceparent.encode()), *([("tracestate", tracestate.encode())] if tracestate else [])]


async def publish_later(conn: asyncpg.Connection, events: Sequence[SlaEvent]) -> None:
    await enqueue(conn, sla_records(events))
