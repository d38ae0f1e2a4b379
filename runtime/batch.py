"""The batch seam (STYLE.md §23): a handler takes the new deliveries of one poll and returns the effects
of the batch (outbox records); the consumer loop runs it inside one transaction together with the
inbox, so a poll costs a handful of round trips instead of several per record.

Per-record domain code stays per record: `each` runs it for every delivery in order, under that
record's trace context (so the events it causes carry it), and tags a failure with the delivery that
caused it, so the loop can dead-letter that record alone and redo the rest of the batch. A handler
passes over its batch more than once (parse and decide, then apply against the batch's reads): the
first pass opens the record's processing span, later passes continue in it without opening another
(one span per record and attempt, not one per pass).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from opentelemetry import context as otel_context
from opentelemetry import trace

from runtime.db import DATABASE_OUTAGE
from runtime.telemetry import context_from_traceparent
from schemas.cloudevents import Envelope, Outgoing
from schemas.topics import CASE_KEYED

tracer = trace.get_tracer("gridline.consumer")
T = TypeVar("T")


@dataclass(eq=False)
class Delivery:
    """One decoded record of a poll batch; `trace` is the context of its processing span once `each`
    opened it (cleared by the consumer loop before every attempt at the batch); `prepared` what the
    topic's `Preparer` computed for it ahead of its batch (None: nothing, or that step failed)."""

    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope
    trace: otel_context.Context | None = None
    prepared: object | None = None

    @property
    def topic(self) -> str:
        topic: str = self.record.topic
        return topic


BatchHandler = Callable[[asyncpg.Connection, Sequence[Delivery]], Awaitable[Sequence[Outgoing]]]
Preparer = Callable[[Sequence[Delivery]], None]
"""A topic's pure, database-free work on a few deliveries (the router's decisions), setting their
`prepared`: the consumer loop runs it on the next poll while the current batch's statements run. It
must not change anything outside the deliveries: its results may be thrown away (a crash, a stop), and
the handler must give the same effects with or without them (it redoes what is missing)."""


class Rejected(Exception):
    """The handler refuses the record for good (bad data, not a bad moment): dead-letter it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordFailed(Exception):
    """A per-record step failed; `__cause__` says why, `delivery` which record."""

    def __init__(self, delivery: Delivery) -> None:
        super().__init__(f"{delivery.topic}@{delivery.record.partition}:{delivery.record.offset}")
        self.delivery = delivery


TRANSIENT: tuple[type[BaseException], ...] = (
    *DATABASE_OUTAGE,
    KafkaError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def is_transient(exc: BaseException) -> bool:
    """Database or broker unavailable, or a conflict with another instance: retry the whole batch."""
    return isinstance(exc, TRANSIENT)


async def each(deliveries: Sequence[Delivery], step: Callable[[Delivery], Awaitable[T]]) -> list[T]:
    """Run `step` for every delivery in order, inside the record's trace context and span. A transient
    error is re-raised as is (the whole batch is retried); any other failure is tagged with its record."""
    results: list[T] = []
    for delivery in deliveries:
        env = delivery.envelope
        known = delivery.trace
        token = otel_context.attach(known if known is not None else
                                    context_from_traceparent(env.traceparent, env.tracestate))
        try:
            with structlog.contextvars.bound_contextvars(**log_ids(delivery.topic, env)):
                if known is not None:  # a later pass: inside the span the first one opened
                    results.append(await step(delivery))
                else:
                    with tracer.start_as_current_span(
                        f"{delivery.topic} process", kind=trace.SpanKind.CONSUMER,
                        attributes={"messaging.system": "kafka", "messaging.destination.name": delivery.topic,
                                    "cloudevents.event_id": env.id, "cloudevents.event_type": env.type},
                    ):
                        delivery.trace = otel_context.get_current()
                        results.append(await step(delivery))
        except RecordFailed:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise RecordFailed(delivery) from exc
        finally:
            otel_context.detach(token)
    return results


def log_ids(topic: str, envelope: Envelope) -> dict[str, str]:
    """What a log line written while handling a record names: the event, and the case it is about
    (case-keyed topics carry the case id as subject; intake topics the incident id)."""
    ids = {"event_id": envelope.id}
    if envelope.subject:
        ids["case_id" if topic in CASE_KEYED else "incident_id"] = envelope.subject
    return ids


def per_record(
    step: Callable[[asyncpg.Connection, Envelope], Awaitable[Sequence[Outgoing]]],
) -> BatchHandler:
    """A batch handler from a per-record one that needs no batched reads (scoring): same transaction,
    records in order."""

    async def handle(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Outgoing]:
        out = await each(deliveries, lambda d: step(conn, d.envelope))
        return [r for records in out for r in records]

    return handle


async def first_seen(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """The inbox for a whole batch in one statement: the deliveries whose event id was never processed
    (the first of several copies within the batch), in their order."""
    if not deliveries:
        return []
    rows = await conn.fetch(
        "INSERT INTO inbox (event_id, topic) SELECT * FROM unnest($1::text[], $2::text[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        [d.envelope.id for d in deliveries], [d.topic for d in deliveries],
    )
    new = {r["event_id"] for r in rows}
    fresh = []
    for d in deliveries:
        if d.envelope.id in new:
            new.discard(d.envelope.id)
            fresh.append(d)
    return fresh
