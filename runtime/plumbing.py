"""What every consuming service is built on: its database pool (migrated), an `acks=all` producer, the
outbox relay, one consumer group with the shared consumer loop, and the background loops."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from runtime import chaos
from runtime.batch import Preparer
from runtime.consumer import ConsumerLoop, Handler
from runtime.db import create_pool, migrate
from runtime.kafka import make_consumer, make_producer
from runtime.outbox import OutboxRelay
from runtime.service import Loops, start_consumer
from runtime.settings import PlatformSettings


@dataclass
class Plumbing:
    service: str
    settings: PlatformSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    relay: OutboxRelay
    loops: Loops = field(default_factory=Loops)
    consumer: AIOKafkaConsumer | None = None
    consumer_loop: ConsumerLoop | None = None

    @classmethod
    async def open(cls, service: str, settings: PlatformSettings, *, schema: str, sql: Path,
                   pool_size: int = 10) -> Plumbing:
        """Migrate the service's schema, then connect; nothing consumes until `consume`."""
        await migrate(settings.database_url, schema, sql)
        # no reset query per release: handlers and the relay leave no session state behind (the relay's
        # session lock is released by the relay itself), and a poll batch is one acquire
        pool = await create_pool(settings.database_url, schema, max_size=pool_size, reset_sessions=False)
        # no linger: the relay hands a whole batch to the producer before it waits, so batches form anyway,
        # and a lone record (a case dispatched at a quiet moment) is not held back 5 ms per hop
        producer = make_producer(settings.kafka_bootstrap, client_id=f"gridline-{service}", linger_ms=0)
        await producer.start()
        relay = OutboxRelay(pool, producer, schema, chaos=chaos.from_env(), service=service)
        return cls(service, settings, pool, producer, relay, loops=Loops(service=service))

    async def consume(self, handlers: dict[str, Handler], *, group_id: str, max_records: int = 500,
                      prepare: dict[str, Preparer] | None = None) -> None:
        """Join the group and start the consumer loop (one transaction per poll batch of at most
        `max_records`; `prepare`: pure work on the next poll done while a batch waits on the database)
        and the outbox relay.

        What start-up built (the router's tables and model, jieba's dictionary) lives as long as the
        process: it is moved out of the garbage collector's sight first (`gc.freeze`). Otherwise every
        full collection walks it again — ≈ 70 ms for the router's ~110,000 objects, paid every few
        poll batches, because a batch's cases and events survive the young generations."""
        gc.collect()
        gc.freeze()
        client_id = f"gridline-{self.service}"
        self.consumer = make_consumer(self.settings.kafka_bootstrap, *handlers, group_id=group_id,
                                      client_id=client_id,
                                      group_instance_id=self.settings.kafka_group_instance_id)
        await start_consumer(self.consumer)
        self.consumer_loop = ConsumerLoop(self.consumer, self.producer, self.pool, handlers, self.service,
                                          wake=self.relay.kick.set, chaos=chaos.from_env(), max_records=max_records,
                                          prepare=dict(prepare or {}))
        self.loops.start("consumer", self.consumer_loop.run)
        self.loops.start("outbox", self.relay.run)

    async def close(self) -> None:
        await self.loops.close()
        if self.consumer is not None:
            await self.consumer.stop()
        await self.producer.stop()
        await self.pool.close()


@dataclass
class PlumbedService:
    """Base of a running service (what `runtime.app.service_app` needs): its plumbing, pool and loops."""

    plumbing: Plumbing

    @property
    def pool(self) -> asyncpg.Pool:
        return self.plumbing.pool

    @property
    def loops(self) -> Loops:
        return self.plumbing.loops

    @property
    def producer(self) -> AIOKafkaProducer:
        return self.plumbing.producer

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        return self.plumbing.consumer

    async def close(self) -> None:
        await self.plumbing.close()
