"""The one consumer loop: handle each record, commit only after its effects are durable.

- Records that can never succeed (not a CloudEvent, payload invalid, `Rejected` by the handler) go to
  `<topic>.dlq` with the reason and their origin, then the partition moves on.
- Transient failures (database or broker unavailable) are retried with backoff, without skipping.
- Any other exception is retried a few times and then dead-lettered with its type and where it was
  raised. Reasons and log lines never carry the record's data (it may hold personal data).
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from opentelemetry import context as otel_context
from opentelemetry import trace
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from runtime.db import DATABASE_OUTAGE
from runtime.logging import get_logger
from runtime.telemetry import context_from_traceparent
from schemas.cloudevents import Envelope, EnvelopeError, decode
from schemas.topics import dlq

log = get_logger(__name__)
tracer = trace.get_tracer("gridline.consumer")

Handler = Callable[[Envelope], Awaitable[None]]


class Rejected(Exception):
    """The handler refuses the record for good (bad data, not a bad moment): dead-letter it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TRANSIENT: tuple[type[BaseException], ...] = (
    *DATABASE_OUTAGE,
    KafkaError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


@dataclass
class ConsumerLoop:
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer  # for dead letters
    handlers: dict[str, Handler]  # topic → handler
    service: str
    bug_attempts: int = 3
    processed: int = 0
    dead_lettered: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Partitions of a poll are handled concurrently (their database round trips overlap), records
        within a partition strictly in order; offsets are committed once all of them are done.

        A (re)start first rewinds every assigned partition to its committed offset: records fetched by
        a run that died before its commit are handled again, never skipped."""
        await rewind_to_committed(self.consumer)
        while not stop.is_set():
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if not batch:
                continue
            await asyncio.gather(*(self._partition(records) for records in batch.values()))
            await self.consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})

    async def _partition(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            await self._process(record)

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = decode(record.key, record.value, record.headers)
        except EnvelopeError as exc:
            await self._dead_letter(record, str(exc), "envelope")
            return
        ctx = context_from_traceparent(envelope.traceparent, envelope.tracestate)
        token = otel_context.attach(ctx)
        try:
            with tracer.start_as_current_span(
                f"{record.topic} process", kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "kafka", "messaging.destination.name": record.topic,
                            "cloudevents.event_id": envelope.id, "cloudevents.event_type": envelope.type},
            ):
                await self._handle_with_retries(record, envelope)
        finally:
            otel_context.detach(token)

    async def _handle_with_retries(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> None:
        handler = self.handlers[record.topic]
        bug_failures = 0
        while True:
            try:
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception(_is_transient),
                    wait=wait_exponential(multiplier=0.2, max=10),
                    reraise=True,
                ):
                    with attempt:
                        await handler(envelope)
                self.processed += 1
                return
            except (Rejected, EnvelopeError) as exc:
                await self._dead_letter(record, getattr(exc, "reason", str(exc)), "rejected", envelope)
                return
            except Exception as exc:
                bug_failures += 1
                log.error("handler_failed", topic=record.topic, offset=record.offset, error=type(exc).__name__,
                          where=where(exc), attempt=bug_failures, event_id=envelope.id)
                if bug_failures >= self.bug_attempts:
                    await self._dead_letter(record, f"{type(exc).__name__} at {where(exc)}", "handler_error",
                                            envelope)
                    return
                await asyncio.sleep(0.2 * bug_failures)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, kind: str, envelope: Envelope | None = None
    ) -> None:
        headers = [
            *record.headers,
            ("dlq_reason", reason[:4000].encode()),
            ("dlq_kind", kind.encode()),
            ("dlq_origin", json.dumps({"topic": record.topic, "partition": record.partition,
                                       "offset": record.offset, "service": self.service}).encode()),
            ("dlq_time", datetime.now(UTC).isoformat().encode()),
        ]
        async for attempt in AsyncRetrying(retry=retry_if_exception(_is_transient),
                                           wait=wait_exponential(multiplier=0.2, max=10), reraise=True):
            with attempt:
                fut = await self.producer.send(dlq(record.topic), value=record.value, key=record.key,
                                               headers=headers)
                await fut
        self.dead_lettered += 1
        log.warning("dead_lettered", topic=record.topic, offset=record.offset, kind=kind, reason=reason[:300],
                    event_id=envelope.id if envelope else None)


def where(exc: BaseException, frames: int = 4) -> str:
    """The innermost frames of a failure, without its message (which may quote the record's data)."""
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    return " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(stack))


async def rewind_to_committed(consumer: AIOKafkaConsumer) -> None:
    """Position each assigned partition at its committed offset (the log's start when none)."""
    tps = sorted(consumer.assignment())
    fresh = []
    for tp in tps:
        committed = await consumer.committed(tp)
        if committed is None:
            fresh.append(tp)
        else:
            consumer.seek(tp, committed)
    if fresh:
        await consumer.seek_to_beginning(*fresh)
