"""Composition root: builds scoring's pool, clients, handlers and loops from settings."""

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
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.scoring.domain.ruler_files import load_rulers
from services.scoring.handlers.context import ScoringContext
from services.scoring.handlers.events import handle_case_event, handle_sla_event
from services.scoring.handlers.publisher import Publisher
from services.scoring.settings import ScoringSettings

SQL = Path(__file__).resolve().parent / "sql"
INPUTS = (CASE_EVENTS, SLA_EVENTS)


@dataclass
class Scoring:
    settings: ScoringSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    consumer: AIOKafkaConsumer
    context: ScoringContext
    consumer_loop: ConsumerLoop
    relay: OutboxRelay
    publisher: Publisher
    loops: Loops

    async def close(self) -> None:
        await self.loops.close()
        await self.consumer.stop()
        await self.producer.stop()
        await self.pool.close()


def handlers(ctx: ScoringContext) -> dict[str, Handler]:
    return {
        CASE_EVENTS: partial(handle_case_event, ctx, topic=CASE_EVENTS),
        SLA_EVENTS: partial(handle_sla_event, ctx, topic=SLA_EVENTS),
    }


async def bootstrap(settings: ScoringSettings, clock: Callable[[], datetime] | None = None) -> Scoring:
    """Rulers are validated before anything connects: an invalid ruler stops the service at start."""
    rulers = load_rulers(settings.ruler_dir)
    now = clock or (lambda: datetime.now(UTC))
    await migrate(settings.database_url, settings.schema_name, SQL)
    pool = await create_pool(settings.database_url, settings.schema_name, max_size=10)
    producer = make_producer(settings.kafka_bootstrap, client_id="gridline-scoring")
    await producer.start()
    relay = OutboxRelay(pool, producer, settings.schema_name)
    ctx = ScoringContext(pool=pool, rulers=rulers)
    publisher = Publisher(pool, rulers, relay, now, settings.publish_interval_seconds)
    await publisher.mark_ruler_changes()
    consumer = make_consumer(settings.kafka_bootstrap, *INPUTS, group_id=settings.group_id,
                             client_id="gridline-scoring")
    await start_consumer(consumer)
    loop = ConsumerLoop(consumer, producer, handlers(ctx), "scoring")
    loops = Loops()
    loops.start("consumer", loop.run)
    loops.start("publisher", publisher.run)
    loops.start("outbox", relay.run)
    return Scoring(settings, pool, producer, consumer, ctx, loop, relay, publisher, loops)
