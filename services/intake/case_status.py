"""Open311 status: intake keeps its own read model of the cases its Open311 requests became, from
case.events.v1 and sla.events.v1 (consumer group `gridline-intake-open311`).

Why a read model rather than the router's and sla's HTTP APIs: `GET requests.json` lists up to 1,000
requests filtered by status, which would be 2,000 calls per page, and a filter on status cannot be
paged from outside. Events of other cases — almost all of both topics — are skipped by their key (the
case id) before they are decoded: no inbox row, no span, no write (at 500 reports/s end to end, this
follower decoding and tracing every case event was 44 % of intake's samples, docs/benchmarks.md). Nor
does it open aiokafka's `receive` span per record: an Open311 case's events are traced by their
`process` span here and by the other services' consumers. A record it does not read is not its to
dead-letter: an unreadable record keyed by another case goes to the dead letters of sla, scoring and
the console, which handle it; one keyed by an Open311 case goes there from intake too."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from runtime.batch import per_record
from runtime.consumer import ConsumerLoop, Handler
from runtime.kafka import make_consumer
from runtime.service import Loops, start_consumer
from schemas.case import CaseEvent
from schemas.cloudevents import Envelope, Outgoing
from schemas.common import Channel
from schemas.sla import SlaEvent
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.intake.adapters import open311_store as store
from services.intake.domain.open311_status import apply_case_event, apply_sla_event
from services.intake.settings import IntakeSettings

OPEN311_CASE_PREFIX = "C-OS-"  # case ids of Open311 requests (C-<incident id>, incident ids OS-…)
_OPEN311_KEY = OPEN311_CASE_PREFIX.encode()


def open311_record(record: ConsumerRecord[bytes, bytes]) -> bool:
    """Whether a case.events.v1 / sla.events.v1 record is about an Open311 case (both keyed by case id)."""
    return record.key is not None and record.key.startswith(_OPEN311_KEY)


async def handle_case_event(conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    """Inside the poll batch's transaction (runtime.consumer: the inbox already dropped redeliveries)."""
    event = envelope.payload(CaseEvent)
    if event.channel is Channel.OPEN311 or event.case_id.startswith(OPEN311_CASE_PREFIX):
        updated = apply_case_event(await store.status(conn, event.case_id), event)
        if updated is not None:
            await store.save_status(conn, updated)
    return []


async def handle_sla_event(conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    event = envelope.payload(SlaEvent)
    if event.case_id.startswith(OPEN311_CASE_PREFIX):
        await store.save_status(conn, apply_sla_event(await store.status(conn, event.case_id), event))
    return []


@dataclass
class StatusFollower:
    """Joins the group in the background, so intake's HTTP side never waits for Kafka's group protocol."""

    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    settings: IntakeSettings
    loops: Loops = field(default_factory=Loops)
    consumer: AIOKafkaConsumer | None = None

    def start(self) -> None:
        self.loops.start("open311-status", self._run)

    async def _run(self, stop: asyncio.Event) -> None:
        handlers: dict[str, Handler] = {CASE_EVENTS: per_record(handle_case_event),
                                        SLA_EVENTS: per_record(handle_sla_event)}
        self.consumer = make_consumer(self.settings.kafka_bootstrap, *handlers,
                                      group_id=self.settings.open311_status_group, client_id="gridline-intake",
                                      group_instance_id=self.settings.kafka_group_instance_id)
        await start_consumer(self.consumer)
        await ConsumerLoop(self.consumer, self.producer, self.pool, handlers, "intake", wanted=open311_record,
                           receive_spans=False).run(stop)

    async def stop(self) -> None:
        await self.loops.close()
        if self.consumer is not None:
            await self.consumer.stop()
