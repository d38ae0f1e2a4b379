"""Composition root: builds sla's calendar, pool, clients and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from runtime.consumer import ConsumerLoop, Handler
from runtime.db import create_pool, migrate
from runtime.kafka import make_consumer, make_producer
from runtime.outbox import OutboxRelay
from runtime.service import Loops, start_consumer
from schemas.topics import CASE_EVENTS
from services.sla.adapters.calendar_files import load_calendar
from services.sla.domain.deadlines import Rules
from services.sla.handlers.case_events import handle_case_event
from services.sla.handlers.context import SlaContext
from services.sla.handlers.timers import fire_due, run_timer
from services.sla.settings import SlaSettings

SQL = Path(__file__).resolve().parent / "sql"


@dataclass
class Sla:
    settings: SlaSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    consumer: AIOKafkaConsumer
    context: SlaContext
    consumer_loop: ConsumerLoop
    relay: OutboxRelay
    loops: Loops

    async def fire_due(self, now: datetime) -> int:
        """The timer, callable with any clock (tests move time forward instead of sleeping)."""
        return await fire_due(self.context, now)

    async def close(self) -> None:
        await self.loops.close()
        await self.consumer.stop()
        await self.producer.stop()
        await self.pool.close()


def handlers(ctx: SlaContext) -> dict[str, Handler]:
    return {CASE_EVENTS: partial(handle_case_event, ctx, topic=CASE_EVENTS)}


async def bootstrap(settings: SlaSettings, clock: Callable[[], datetime] | None = None) -> Sla:
    rules = Rules(load_calendar(settings.calendar_dir), settings.warn_share)  # invalid calendar: fail at start
    await migrate(settings.database_url, settings.schema_name, SQL)
    pool = await create_pool(settings.database_url, settings.schema_name, max_size=10)
    producer = make_producer(settings.kafka_bootstrap, client_id="gridline-sla")
    await producer.start()
    relay = OutboxRelay(pool, producer, settings.schema_name)
    ctx = SlaContext(pool=pool, rules=rules, relay=relay, clock=clock or (lambda: datetime.now(UTC)),
                     timer_batch=settings.timer_batch)
    consumer = make_consumer(settings.kafka_bootstrap, CASE_EVENTS, group_id=settings.group_id,
                             client_id="gridline-sla")
    await start_consumer(consumer)
    loop = ConsumerLoop(consumer, producer, handlers(ctx), "sla")
    loops = Loops()
    loops.start("consumer", loop.run)
    loops.start("outbox", relay.run)
    if settings.timer_enabled:
        loops.start("timer", partial(run_timer, ctx, interval=settings.timer_interval_seconds))
    return Sla(settings, pool, producer, consumer, ctx, loop, relay, loops)
