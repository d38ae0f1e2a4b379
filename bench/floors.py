"""Floors for the router pipeline, measured on the same stack in the same run over the same records:

(a) consume → produce: aiokafka reads a poll batch, produces one record per input (acks=all,
    idempotent), awaits every acknowledgement, then commits the offsets;
(b) the same with one PostgreSQL transaction per batch: inbox ids `ON CONFLICT DO NOTHING`, a state
    upsert per record and an outbox row per record, then produce, mark the outbox rows sent, commit.

No decision, no JSON parsing of the payload: what is left is the cost of the round trips the router
cannot avoid. The router's rate divided by (b) says how close it runs to what the machine allows.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from deploy.local.stack import Stack
from runtime.db import create_pool, migrate
from runtime.kafka import make_producer

OUT_TOPIC = "bench.floor.v1"
SCHEMA = "bench_floor"
STATE_SQL = "CREATE TABLE state (key text PRIMARY KEY, value bytea NOT NULL, seen int NOT NULL DEFAULT 1);"


async def prepare(stack: Stack, partitions: int) -> None:
    """The output topic and the floor's schema (inbox, outbox, state) — once per run."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(OUT_TOPIC, partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "001_state.sql").write_text(STATE_SQL)
        await migrate(stack.database_url, SCHEMA, Path(tmp))


async def consume_produce(stack: Stack, start: dict[TopicPartition, int], n: int, *, database: bool) -> float:
    """Records/s of floor (a) (`database=False`) or (b) over the `n` records from `start`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=f"bench-floor-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False, isolation_level="read_committed", max_poll_records=500)
    producer = make_producer(stack.bootstrap, client_id="bench-floor")
    pool = await create_pool(stack.database_url, SCHEMA, max_size=2) if database else None
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        seen = 0
        began = time.perf_counter()
        while seen < n:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            ids = await _transaction(pool, records) if pool is not None else None
            futures = [await producer.send(OUT_TOPIC, value=r.value, key=r.key, headers=list(r.headers))
                       for r in records]
            for fut in futures:
                await fut
            if pool is not None and ids:
                await pool.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", ids)
            await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
            seen += len(records)
        return seen / (time.perf_counter() - began)
    finally:
        await consumer.stop()
        await producer.stop()
        if pool is not None:
            await pool.close()


async def _transaction(pool: asyncpg.Pool, records: list[ConsumerRecord[bytes, bytes]]) -> list[int]:
    """Inbox + state upsert + outbox rows for the batch, one transaction; returns the outbox ids."""
    ids = [f"{r.topic}:{r.partition}:{r.offset}" for r in records]
    async with pool.acquire() as conn, conn.transaction():
        fresh = await conn.fetch(
            "INSERT INTO inbox (event_id, topic) SELECT * FROM unnest($1::text[], $2::text[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id", ids, [r.topic for r in records])
        new = {row["event_id"] for row in fresh}
        mine = [(i, r) for i, r in zip(ids, records, strict=True) if i in new]
        await conn.executemany(
            "INSERT INTO state (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, seen = state.seen + 1",
            [((r.key or b"").decode(), r.value) for _, r in mine])
        rows = await conn.fetch(
            "INSERT INTO outbox (event_id, topic, key, value, headers) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::jsonb[]) RETURNING id",
            [f"OUT-{i}" for i, _ in mine], [OUT_TOPIC] * len(mine), [r.key or b"" for _, r in mine],
            [r.value for _, r in mine], ["[]"] * len(mine))
    return [row["id"] for row in rows]
