"""Kafka clients with the settings Gridline relies on (ARCHITECTURE.md, processing guarantees)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from opentelemetry import context as otel_context

from runtime.telemetry import under
from schemas.cloudevents import Outgoing


def make_producer(bootstrap: str, *, client_id: str, linger_ms: int = 5) -> AIOKafkaProducer:
    """acks=all + idempotence: an acknowledged record is on every in-sync replica, retries never duplicate."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        request_timeout_ms=15000,
        max_batch_size=256 * 1024,
    )


def make_consumer(bootstrap: str, *topics: str, group_id: str, client_id: str,
                  group_instance_id: str | None = None, session_timeout_ms: int = 10000) -> AIOKafkaConsumer:
    """Manual commits after effects are durable; a new group starts from the beginning of the log.
    With `group_instance_id` the member is static (KIP-345): it does not leave the group when it stops,
    and a process started with the same id takes its partitions back without a rebalance."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        group_instance_id=group_instance_id,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=3000,
    )


async def send(producer: AIOKafkaProducer, topic: str, *, value: bytes | None, key: bytes | None,
               headers: Sequence[tuple[str, bytes]]) -> asyncio.Future[RecordMetadata]:
    """Queue one record, inside the trace context its headers carry (see runtime.telemetry.under)."""
    kept, ctx = under(headers)
    token = otel_context.attach(ctx)
    try:
        queued: asyncio.Future[RecordMetadata] = await producer.send(topic, value=value, key=key, headers=kept)
        return queued
    finally:
        otel_context.detach(token)


async def publish(producer: AIOKafkaProducer, records: list[Outgoing]) -> None:
    """Send a batch and wait until every record is acknowledged (raises on the first failure)."""
    futures = [await send(producer, r.topic, value=r.value, key=r.key, headers=r.headers) for r in records]
    for fut in futures:
        await fut


async def records_behind(consumer: AIOKafkaConsumer) -> int:
    """Records between the consumer's position and the end of its assigned partitions (as of the last
    fetch): how far behind the log end it is."""
    behind = 0
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if end is not None:
            behind += max(0, end - await consumer.position(tp))
    return behind
