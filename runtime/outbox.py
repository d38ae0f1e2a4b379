"""Transactional outbox: services write events to publish in the same transaction as their state;
this relay publishes them in order (acks=all) and marks them sent. One relay per service publishes at a
time (a PostgreSQL advisory lock), so per-key order in the outbox is the order on the topic.

A database or broker error ends `run`; the service's `Loops` starts it again with backoff. A record
acknowledged by the broker but not yet marked sent when that happens is published again with the
same ce_id: consumers of the output topics de-duplicate by ce_id (AsyncAPI, README)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Protocol

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from runtime.db import DATABASE_OUTAGE
from runtime.logging import get_logger
from runtime.metrics import RECORDS_OUT
from runtime.produce import publish_batched
from runtime.telemetry import inject_headers
from schemas.cloudevents import Outgoing, encode

log = get_logger(__name__)


class CaseFact(Protocol):
    """An event about one case (case and SLA events): keyed by its case id for per-case order."""

    @property
    def case_id(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> Enum: ...


def case_records(
    topic: str, events: Sequence[CaseFact], *, type_of: Callable[[str], str], source: str,
    trace: Sequence[tuple[str, bytes]] | None = None,
) -> list[Outgoing]:
    """Outbox records for case facts: key and subject = case id, the event's stable id as ce_id,
    ce_type from its kind, and the trace context given (by default the current one)."""
    trace = inject_headers() if trace is None else trace
    return [
        encode(topic, e.case_id, e, type=type_of(str(e.kind.value)), source=source,  # type: ignore[arg-type]
               subject=e.case_id, event_id=e.event_id, time=e.at, trace_headers=trace)
        for e in events
    ]


async def enqueue(conn: asyncpg.Connection, records: Sequence[Outgoing]) -> None:
    """Add records to the outbox inside the caller's transaction (duplicates by event id are ignored).

    A record written outside any trace (sla's timer firing a deadline hours later) continues the trace
    of the last record with the same key: a case's warnings and breaches join its incident's trace."""
    if records:
        await conn.execute(outbox_insert(1), *await outbox_columns(conn, records))


def outbox_insert(first: int) -> str:
    """The outbox INSERT of `outbox_columns`, its parameters numbered from `first`: one statement per batch
    (also as the last part of a caller's statement, after its own data-modifying `WITH`); ids (publication
    order) follow the records' order."""
    a, b, c, d, e = range(first, first + 5)
    return ("INSERT INTO outbox (event_id, topic, key, value, headers) SELECT e, t, k, v, h FROM unnest("
            f"${a}::text[], ${b}::text[], ${c}::bytea[], ${d}::bytea[], ${e}::jsonb[]) "
            "WITH ORDINALITY AS r(e, t, k, v, h, n) ORDER BY n ON CONFLICT (event_id) DO NOTHING")


async def outbox_columns(conn: asyncpg.Connection, records: Sequence[Outgoing]) -> list[Sequence[object]]:
    """The five parameter arrays of `outbox_insert` for these records, untraced ones given the trace of
    their key's last record (one query, only if some record has no trace)."""
    traced = [_traced(r.headers) for r in records]
    inherited = await _traces_of(conn, {r.key for r, t in zip(records, traced, strict=True) if not t})
    headers = [orjson.dumps([[k, v.decode()] for k, v in (r.headers if t else
                                                          [*r.headers, *inherited.get(r.key, [])])]).decode()
               for r, t in zip(records, traced, strict=True)]
    return [[r.event_id for r in records], [r.topic for r in records], [r.key for r in records],
            [r.value for r in records], headers]


TRACE_HEADERS = ("traceparent", "tracestate")


def _traced(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(k == "traceparent" for k, _ in headers)


async def _traces_of(conn: asyncpg.Connection, keys: set[bytes]) -> dict[bytes, list[tuple[str, bytes]]]:
    if not keys:
        return {}
    rows = await conn.fetch(
        "SELECT DISTINCT ON (key) key, headers FROM outbox WHERE key = ANY($1::bytea[]) "
        "AND headers @> '[[\"traceparent\"]]'::jsonb ORDER BY key, id DESC",
        list(keys),
    )
    found = {}
    for row in rows:
        trace_headers = [(k, v.encode()) for k, v in json.loads(row["headers"]) if k in TRACE_HEADERS]
        if trace_headers:
            found[bytes(row["key"])] = trace_headers
    return found


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, schema: str, batch: int = 500,
                 chaos: Callable[[str, int], None] = lambda stage, size: None, service: str | None = None) -> None:
        self.pool = pool
        self.chaos = chaos
        self.service = service or schema
        self.producer = producer
        self.batch = batch
        self.lock_id = int.from_bytes(hashlib.sha256(f"outbox:{schema}".encode()).digest()[:8], "big", signed=True)
        self.kick = asyncio.Event()
        self.published = 0

    async def run(self, stop: asyncio.Event, idle_seconds: float = 0.2) -> None:
        async with self.pool.acquire() as leader:
            while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_id):
                try:  # another instance publishes; wait to take over when it goes
                    await asyncio.wait_for(stop.wait(), 1)
                    return
                except TimeoutError:
                    pass
            try:
                while not stop.is_set():
                    # cleared before looking, not after finding nothing: a commit that kicks while the
                    # SELECT runs (and that the SELECT did not see) is not lost for `idle_seconds`
                    self.kick.clear()
                    sent = await self.publish_pending(leader)
                    if sent == 0:
                        try:
                            await asyncio.wait_for(self.kick.wait(), idle_seconds)
                        except TimeoutError:
                            pass
            finally:
                try:
                    await leader.execute("SELECT pg_advisory_unlock($1)", self.lock_id)
                except DATABASE_OUTAGE:  # a lost session has released its lock already; a broken one goes
                    leader.terminate()  # (pools may skip the reset query that would unlock it on release)

    async def publish_pending(self, conn: asyncpg.Connection | asyncpg.Pool | None = None) -> int:
        """Publish the oldest unsent rows (one batch) and mark them sent; the relay passes the connection
        that holds its lock, so a batch costs its two statements and no pool round trips."""
        db = conn or self.pool
        rows = await db.fetch(
            "SELECT id, topic, key, value, headers FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
            self.batch,
        )
        if not rows:
            return 0
        records, types = [], []
        for row in rows:
            headers = [(k, v.encode()) for k, v in orjson.loads(row["headers"])]
            types.append(next((v for k, v in headers if k == "ce_type"), b"").decode())
            records.append(Outgoing(row["topic"], row["key"], row["value"], headers, ""))
        # one record batch per partition, in the rows' order, and one PRODUCER span per trace (the
        # instrumented `send` per record was 9 % of the router's samples end to end, docs/benchmarks.md)
        await publish_batched(self.producer, records)
        self.chaos("after_publish", len(rows))
        await db.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        self.published += len(rows)
        for (topic, ce_type), n in Counter(zip((r["topic"] for r in rows), types, strict=True)).items():
            RECORDS_OUT.labels(self.service, topic, ce_type).inc(n)
        return len(rows)
