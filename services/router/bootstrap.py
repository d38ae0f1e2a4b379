"""Composition root: builds the router's pool, clients, tables and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from runtime.consumer import ConsumerLoop, Handler
from runtime.db import create_pool, migrate
from runtime.kafka import make_consumer, make_producer
from runtime.outbox import OutboxRelay
from runtime.service import Loops, start_consumer
from schemas.cloudevents import Envelope
from schemas.topics import INTAKE_ACTIONS, INTAKE_GRID, INTAKE_HOTLINE, INTAKE_WECHAT, SLA_EVENTS
from services.router.domain.duplicates import DuplicatePolicy
from services.router.handlers.actions import handle_action
from services.router.handlers.context import RouterContext, TablesHolder
from services.router.handlers.escalations import handle_sla_event
from services.router.handlers.incidents import handle_incident
from services.router.settings import RouterSettings
from services.router.tables import load_gazetteer, load_tables, watch

SQL = Path(__file__).resolve().parent / "sql"
INPUTS = (INTAKE_HOTLINE, INTAKE_GRID, INTAKE_WECHAT, INTAKE_ACTIONS, SLA_EVENTS)


@dataclass
class Router:
    settings: RouterSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    consumer: AIOKafkaConsumer
    context: RouterContext
    consumer_loop: ConsumerLoop
    relay: OutboxRelay
    loops: Loops

    async def close(self) -> None:
        await self.loops.close()
        await self.consumer.stop()
        await self.producer.stop()
        await self.pool.close()


def handlers(ctx: RouterContext) -> dict[str, Handler]:
    def bind(fn: Callable[..., object], topic: str) -> Handler:
        return partial(fn, ctx, topic=topic)  # type: ignore[return-value]

    return {
        INTAKE_HOTLINE: bind(handle_incident, INTAKE_HOTLINE),
        INTAKE_GRID: bind(handle_incident, INTAKE_GRID),
        INTAKE_WECHAT: bind(handle_incident, INTAKE_WECHAT),
        INTAKE_ACTIONS: bind(handle_action, INTAKE_ACTIONS),
        SLA_EVENTS: bind(handle_sla_event, SLA_EVENTS),
    }


async def bootstrap(settings: RouterSettings, clock: Callable[[], datetime] | None = None) -> Router:
    tables = TablesHolder(load_tables(settings, load_gazetteer(settings.city_dir)))
    await migrate(settings.database_url, settings.schema_name, SQL)
    pool = await create_pool(settings.database_url, settings.schema_name, max_size=10)
    producer = make_producer(settings.kafka_bootstrap, client_id="gridline-router")
    await producer.start()
    relay = OutboxRelay(pool, producer, settings.schema_name)
    ctx = RouterContext(
        pool=pool, tables=tables, relay=relay, clock=clock or (lambda: datetime.now(UTC)),
        duplicates=DuplicatePolicy(settings.duplicate_radius_m, timedelta(hours=settings.duplicate_window_hours)),
    )
    consumer = make_consumer(settings.kafka_bootstrap, *INPUTS, group_id=settings.group_id,
                             client_id="gridline-router")
    await start_consumer(consumer)
    loop = ConsumerLoop(consumer, producer, handlers(ctx), "router")
    loops = Loops()
    loops.start("consumer", loop.run)
    loops.start("outbox", relay.run)
    loops.start("reload", partial(watch, settings, tables))
    return Router(settings, pool, producer, consumer, ctx, loop, relay, loops)


__all__ = ["Envelope", "Router", "bootstrap"]
