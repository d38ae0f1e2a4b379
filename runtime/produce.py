"""Publish many records at once: one record batch per partition and one PRODUCER span per trace.

`runtime.kafka.publish` sends record by record (aiokafka's `send`: the partitioner, the accumulator
and an instrumented PRODUCER span for every record). A caller that already holds a whole group —
intake's group commit, up to a thousand records — pays that per record for nothing: here the records
are appended to aiokafka's batch builders (`create_batch` / `send_batch`, the same acks=all,
idempotent producer, so the broker de-duplicates the producer's retries as usual), partitioned
exactly as `send` would (`DefaultPartitioner`: murmur2 of the key; runtime/partition.py computes it for
the whole set at once), and the records of one trace
share one `<topic> send` PRODUCER span, a child of that trace's context, whose context they carry.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from opentelemetry import propagate, trace

from runtime.partition import partitions_of
from runtime.telemetry import extract_context
from schemas.cloudevents import Outgoing

_TRACE_HEADERS = ("traceparent", "tracestate")
_tracer = trace.get_tracer("gridline.produce")


def _traced(records: Sequence[Outgoing]) -> list[tuple[Outgoing, list[tuple[str, bytes]]]]:
    """Each record with its headers for the wire: its trace headers replaced by those of the PRODUCER
    span of its trace (one span per distinct trace context among the records)."""
    by_trace: dict[tuple[tuple[str, bytes], ...], list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_trace[tuple((k, v) for k, v in record.headers if k in _TRACE_HEADERS)].append(i)
    headers: list[list[tuple[str, bytes]]] = [[] for _ in records]
    for trace_headers, indexes in by_trace.items():
        topic = records[indexes[0]].topic
        span = _tracer.start_span(
            f"{topic} send", context=extract_context(trace_headers), kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                        "messaging.operation.name": "send", "messaging.batch.message_count": len(indexes)},
        )
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))  # not made current: nothing runs in it
        span.end()
        injected = [(k, v.encode()) for k, v in carrier.items()]
        for i in indexes:
            headers[i] = [h for h in records[i].headers if h[0] not in _TRACE_HEADERS] + injected
    return list(zip(records, headers, strict=True))


async def publish_batched(producer: AIOKafkaProducer, records: Sequence[Outgoing]) -> None:
    """Send every record and wait until all are acknowledged (raises on the first failure)."""
    partitions: dict[str, tuple[list[int], list[int]]] = {}  # topic → (all, available)
    for topic in {r.topic for r in records}:
        every = sorted(await producer.partitions_for(topic))
        partitions[topic] = every, list(producer.client.cluster.available_partitions_for_topic(topic))
    queued: dict[tuple[str, int], list[tuple[Outgoing, list[tuple[str, bytes]]]]] = defaultdict(list)
    traced = _traced(records)
    picked = [0] * len(records)
    for topic, (every, available) in partitions.items():
        indexes = [i for i, r in enumerate(records) if r.topic == topic]
        for i, partition in zip(indexes, partitions_of([records[i].key for i in indexes], every, available),
                                strict=True):
            picked[i] = partition
    for (record, headers), partition in zip(traced, picked, strict=True):
        queued[record.topic, partition].append((record, headers))
    deliveries: list[asyncio.Future[object]] = []
    for (topic, partition), items in queued.items():
        batch = producer.create_batch()
        for record, headers in items:
            if batch.append(key=record.key, value=record.value, timestamp=None, headers=headers) is None:
                deliveries.append(await _send(producer, batch, topic, partition))  # full
                batch = producer.create_batch()
                if batch.append(key=record.key, value=record.value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"a record of {len(record.value or b'')} bytes does not fit in a batch")
        deliveries.append(await _send(producer, batch, topic, partition))
    for delivery in deliveries:
        await delivery


async def _send(producer: AIOKafkaProducer, batch: BatchBuilder, topic: str, partition: int) -> asyncio.Future[object]:
    """Closed first: a complete batch goes out at once instead of lingering (`linger_ms`) for records
    that will not come, and `send` cannot add others' records to it."""
    batch.close()
    delivery: asyncio.Future[object] = await producer.send_batch(batch, topic, partition=partition)
    return delivery
