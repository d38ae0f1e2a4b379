"""The one consumer loop: one transaction per poll batch, offsets committed only after it commits.

- A poll's records are decoded; records that are not CloudEvents go to `<topic>.dlq` at once.
- The rest run through the inbox (`runtime.batch.first_seen`) and the topics' batch handlers in one
  PostgreSQL transaction, with the outbox records they return; then the relay is woken and the offsets
  are committed. Per-partition order is the order handlers see.
- A record the handler refuses (`Rejected`, invalid payload) is dead-lettered with the reason and the
  batch is redone without it. A record whose handler raises anything else is retried a few times and
  then dead-lettered with the exception's type and where it was raised; a failure no record can be
  blamed for is retried, then the batch is split into single records. Reasons and log lines never
  carry the record's data (it may hold personal data).
- Transient failures (database or broker unavailable, a deadlock with another instance) retry the whole
  batch with backoff, without skipping.
- A follower that needs only some records of a busy topic (intake's Open311 status: a few cases of
  every case event) says which by `wanted` (on the raw record: its key): the others are skipped before
  any work — not decoded, no inbox row, no span, no dead letter — and their offsets committed with the
  poll's. With `receive_spans=False` the poll opens no aiokafka `receive` span per record (the records
  handled still get their `process` span, continuing the producer's trace).
- With `prepare` (topic → `Preparer`), the next poll is fetched and its pure work (the router's
  decisions) done while the current batch waits on PostgreSQL: in chunks of `PREPARE_CHUNK` records
  between the batch's awaits, so the loop computes while the database executes. Batches are still
  handled one after the other, in poll order, each in its own transaction; nothing of the next poll
  is written or committed before its own turn, so a crash or a stop only loses computed results.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from runtime.batch import (
    TRANSIENT,
    BatchHandler,
    Delivery,
    Preparer,
    RecordFailed,
    Rejected,
    first_seen,
    is_transient,
)
from runtime.kafka import send
from runtime.logging import get_logger
from runtime.metrics import DEAD_LETTERS, HANDLING, LAG, RECORDS_IN
from runtime.outbox import enqueue
from schemas.cloudevents import Envelope, EnvelopeError, Outgoing, decode
from schemas.topics import dlq

log = get_logger(__name__)
T = TypeVar("T")
PREPARE_CHUNK = 16  # records prepared between two yields to the loop (≈ 10 ms of router decisions)
Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


@dataclass
class Poll:
    """One poll's records, decoded: the deliveries, and the records that are not CloudEvents."""

    batch: Batch
    deliveries: list[Delivery]
    undecodable: list[tuple[ConsumerRecord[bytes, bytes], EnvelopeError]]


Handler = BatchHandler
__all__ = ["TRANSIENT", "ConsumerLoop", "Handler", "Rejected", "dead_letter", "rewind_to_committed", "where"]


@dataclass
class ConsumerLoop:
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer  # for dead letters
    pool: asyncpg.Pool
    handlers: dict[str, BatchHandler]  # topic → handler, called in this order within a batch
    service: str
    wake: Callable[[], None] = lambda: None  # the outbox relay, after a commit that wrote records
    chaos: Callable[[str, int], None] = lambda stage, size: None  # fault injection (runtime.chaos)
    bug_attempts: int = 3
    max_records: int = 500
    wanted: Callable[[ConsumerRecord[bytes, bytes]], bool] | None = None  # None: every record
    receive_spans: bool = True  # False: poll with aiokafka's own getmany, not the instrumented one
    prepare: dict[str, Preparer] = field(default_factory=dict)  # topic → pure work done ahead of its batch
    processed: int = 0
    dead_lettered: int = 0
    batches: int = 0
    _failures: dict[int, int] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        """A (re)start first rewinds every assigned partition to its committed offset: records fetched by
        a run that died before its commit are handled again, never skipped."""
        await rewind_to_committed(self.consumer)
        ahead: asyncio.Task[Poll] | None = None
        try:
            while not stop.is_set():
                if ahead is not None:
                    poll, ahead = await ahead, None
                else:
                    poll = await self._poll()
                if not poll.batch:
                    continue
                started = time.perf_counter()
                if self.prepare:  # the next poll, decided while this one's statements run
                    ahead = asyncio.create_task(self._poll())
                await self._handle(poll)
                done = {tp: records[-1].offset + 1 for tp, records in poll.batch.items()}
                await self.consumer.commit(done)
                elapsed = time.perf_counter() - started
                for tp, offset in done.items():
                    HANDLING.labels(self.service, tp.topic).observe(elapsed)
                    LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                        max(0, (self.consumer.highwater(tp) or offset) - offset))
        finally:
            if ahead is not None:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead

    async def _poll(self) -> Poll:
        getmany = self.consumer.getmany if self.receive_spans else untraced_getmany(self.consumer)
        batch: Batch = await getmany(timeout_ms=200, max_records=self.max_records)
        poll = self._decode([r for records in batch.values() for r in records])
        poll.batch = batch
        await self._prepare(poll.deliveries)
        return poll

    async def _prepare(self, deliveries: Sequence[Delivery]) -> None:
        """Each topic's `Preparer` over its deliveries, a chunk at a time, yielding to the loop in between.
        A failure leaves its chunk unprepared: the handler does that work itself and blames the record."""
        for preparer, topics in _grouped(self.prepare):
            mine = [d for d in deliveries if d.topic in topics]
            for start in range(0, len(mine), PREPARE_CHUNK):
                await asyncio.sleep(0)
                try:
                    preparer(mine[start:start + PREPARE_CHUNK])
                except Exception as exc:  # the handler redoes it and names the record
                    log.info("prepare_failed", error=type(exc).__name__, where=where(exc))

    async def handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Make the records' effects durable (or dead-letter them); returns when offsets may be committed."""
        poll = self._decode(records)
        await self._prepare(poll.deliveries)
        await self._handle(poll)

    def _decode(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> Poll:
        poll = Poll({}, [], [])
        for record in records if self.wanted is None else filter(self.wanted, records):
            try:
                poll.deliveries.append(Delivery(record, decode(record.key, record.value, record.headers)))
            except EnvelopeError as exc:
                poll.undecodable.append((record, exc))
        return poll

    async def _handle(self, poll: Poll) -> None:
        for record, exc in poll.undecodable:
            await self._dead_letter(record, str(exc), "envelope")
        await self._settle(poll.deliveries)

    async def _settle(self, deliveries: list[Delivery]) -> None:
        pending = list(deliveries)
        batch_failures = 0
        while pending:
            try:
                written = await self._with_retries(pending)
            except RecordFailed as failed:
                await self._record_failed(failed, pending)
                continue
            except Exception as exc:
                batch_failures += 1
                log.error("batch_failed", size=len(pending), error=type(exc).__name__, where=where(exc),
                          attempt=batch_failures)
                if batch_failures < self.bug_attempts:
                    await asyncio.sleep(0.2 * batch_failures)
                elif len(pending) > 1:
                    for one in pending:  # find the record to blame
                        await self._settle([one])
                    return
                else:
                    await self._dead_letter(pending[0].record, f"{type(exc).__name__} at {where(exc)}",
                                            "handler_error", pending[0].envelope)
                    return
                continue
            self.processed += len(pending)
            self.batches += 1
            for topic, n in Counter(d.topic for d in pending).items():
                RECORDS_IN.labels(self.service, topic, "handled").inc(n)
            if written:
                self.wake()
            return

    async def _record_failed(self, failed: RecordFailed, pending: list[Delivery]) -> None:
        d, cause = failed.delivery, failed.__cause__
        if isinstance(cause, (Rejected, EnvelopeError)):
            await self._dead_letter(d.record, getattr(cause, "reason", str(cause)), "rejected", d.envelope)
            pending.remove(d)
            return
        attempts = self._failures[id(d)] = self._failures.get(id(d), 0) + 1
        failure = cause or failed
        log.error("handler_failed", topic=d.topic, offset=d.record.offset, error=type(failure).__name__,
                  where=where(failure), attempt=attempts, event_id=d.envelope.id)
        if attempts >= self.bug_attempts:
            self._failures.pop(id(d), None)
            await self._dead_letter(d.record, f"{type(failure).__name__} at {where(failure)}", "handler_error",
                                    d.envelope)
            pending.remove(d)
        else:
            await asyncio.sleep(0.2 * attempts)

    async def _with_retries(self, pending: list[Delivery]) -> int:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient), wait=wait_exponential(multiplier=0.2, max=10), reraise=True,
        ):
            with attempt:
                return await self._transaction(pending)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _transaction(self, pending: list[Delivery]) -> int:
        """Inbox, every topic's handler and the outbox records they return: one transaction."""
        for d in pending:
            d.trace = None  # each attempt opens its records' spans anew
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await first_seen(conn, pending)
            outgoing: list[Outgoing] = []
            for handler, topics in self._by_handler():
                mine = [d for d in fresh if d.topic in topics]
                if mine:
                    outgoing.extend(await handler(conn, mine))
            await enqueue(conn, outgoing)
            self.chaos("in_transaction", len(pending))
        self.chaos("after_db_commit", len(pending))
        return len(outgoing)

    def _by_handler(self) -> list[tuple[BatchHandler, set[str]]]:
        """A handler bound to several topics sees all their records at once (one unit of work)."""
        return _grouped(self.handlers)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, kind: str, envelope: Envelope | None = None
    ) -> None:
        await dead_letter(self.producer, self.service, record, reason, kind, envelope)
        self.dead_lettered += 1


async def dead_letter(producer: AIOKafkaProducer, service: str, record: ConsumerRecord[bytes, bytes], reason: str,
                      kind: str, envelope: Envelope | None = None) -> None:
    """The record to `<topic>.dlq` as it came (value, key, headers), with why, what kind of failure and
    where it came from; retried while the broker is unavailable."""
    headers = [
        *record.headers,
        ("dlq_reason", reason[:4000].encode()),
        ("dlq_kind", kind.encode()),
        ("dlq_origin", json.dumps({"topic": record.topic, "partition": record.partition,
                                   "offset": record.offset, "service": service}).encode()),
        ("dlq_time", datetime.now(UTC).isoformat().encode()),
    ]
    async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient),
                                       wait=wait_exponential(multiplier=0.2, max=10), reraise=True):
        with attempt:
            await (await send(producer, dlq(record.topic), value=record.value, key=record.key, headers=headers))
    RECORDS_IN.labels(service, record.topic, "dead_lettered").inc()
    DEAD_LETTERS.labels(service, record.topic, kind).inc()
    log.warning("dead_lettered", topic=record.topic, offset=record.offset, kind=kind, reason=reason[:300],
                event_id=envelope.id if envelope else None)


def _grouped(by_topic: dict[str, T]) -> list[tuple[T, set[str]]]:
    """The distinct callables of a topic → callable map (in first-topic order) with their topics."""
    groups: dict[int, tuple[T, set[str]]] = {}
    for topic, fn in by_topic.items():
        groups.setdefault(id(fn), (fn, set()))[1].add(topic)
    return list(groups.values())


def where(exc: BaseException, frames: int = 4) -> str:
    """The innermost frames of a failure, without its message (which may quote the record's data)."""
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    return " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(stack))


def untraced_getmany(
    consumer: AIOKafkaConsumer,
) -> Callable[..., Awaitable[dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]]:
    """The consumer's `getmany` without the aiokafka instrumentation's wrapper (a span per record)."""
    method = consumer.getmany
    return getattr(method, "__wrapped__", method)  # type: ignore[no-any-return]


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
