"""The consumer loop's batch shape against the real broker and database: one transaction per poll batch,
a refused or failing record dead-lettered alone while the rest of its batch keeps its effects, and a
redelivered batch (a crash before the offsets were committed) changing nothing."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import BaseModel

from deploy.local.stack import Stack
from runtime.batch import Delivery, Rejected, each
from runtime.consumer import ConsumerLoop
from runtime.db import create_pool, migrate
from runtime.kafka import make_producer
from schemas.cloudevents import Outgoing, encode
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration


class Step(BaseModel):
    n: int
    do: str  # ok | reject | bug


@pytest_asyncio.fixture(loop_scope="session")
async def world(stack: Stack, uid: str, tmp_path: Path) -> AsyncIterator[tuple[asyncpg.Pool, AIOKafkaProducer, str]]:
    topic = f"test.batch.{uid.lower()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(f"{topic}.dlq", 1, 1)])
    await admin.close()
    (tmp_path / "001_marks.sql").write_text("CREATE TABLE marks (n int PRIMARY KEY);")
    schema = f"batch_{uid.lower()}"
    await migrate(stack.database_url, schema, tmp_path)
    pool = await create_pool(stack.database_url, schema)
    producer = make_producer(stack.bootstrap, client_id="test-batch")
    await producer.start()
    yield pool, producer, topic
    await producer.stop()
    await pool.close()


def _records(topic: str, steps: Sequence[tuple[int, str]]) -> list[ConsumerRecord[bytes, bytes]]:
    out: list[Outgoing] = [encode(topic, str(n), Step(n=n, do=do), type="test.step.v1", source="/test",
                                  event_id=f"step-{n}") for n, do in steps]
    return [ConsumerRecord(topic, 0, i, 0, 0, r.key, r.value, None, len(r.key), len(r.value), r.headers)
            for i, r in enumerate(out)]


async def test_a_refused_and_a_failing_record_are_dead_lettered_alone_and_a_redelivery_changes_nothing(
    world: tuple[asyncpg.Pool, AIOKafkaProducer, str], topics: TopicReader
) -> None:
    pool, producer, topic = world
    calls: Counter[int] = Counter()
    batches: list[list[int]] = []

    async def handler(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Any]:
        batches.append([d.envelope.payload(Step).n for d in deliveries])

        async def one(d: Delivery) -> None:
            step = d.envelope.payload(Step)
            calls[step.n] += 1
            await conn.execute("INSERT INTO marks (n) VALUES ($1)", step.n)  # rolled back with its batch
            if step.do == "reject":
                raise Rejected(f"step {step.n} refused")
            if step.do == "bug":
                raise RuntimeError(f"step {step.n} is a bug")

        await each(deliveries, one)
        return []

    loop = ConsumerLoop(None, producer, pool, {topic: handler}, "test")
    steps = [(1, "ok"), (2, "reject"), (3, "ok"), (4, "bug"), (5, "ok")]
    records = _records(topic, [*steps, (3, "ok")])  # step 3 twice in one batch: handled once
    await loop.handle(records)

    async with pool.acquire() as conn:
        assert [r["n"] for r in await conn.fetch("SELECT n FROM marks ORDER BY n")] == [1, 3, 5]
        inbox = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox")}
    assert inbox == {"step-1", "step-3", "step-5"}  # the dead-lettered never entered the inbox
    assert calls[4] == loop.bug_attempts and calls[2] == 1
    assert batches[-1] == [1, 3, 5]  # the batch was redone without the two

    letters = await topics.collect(f"{topic}.dlq", lambda e: True, expect=2)
    reasons = {json.loads(e.data)["n"]: (e.extensions["dlq_kind"], e.extensions["dlq_reason"]) for e in letters}
    assert reasons[2] == ("rejected", "step 2 refused")
    assert reasons[4][0] == "handler_error" and reasons[4][1].startswith("RuntimeError at test_consumer_batch.py")
    assert loop.dead_lettered == 2 and loop.processed == 4  # the copy of step 3 counts as settled

    before = len(batches)
    await loop.handle(_records(topic, [(1, "ok"), (3, "ok"), (5, "ok")]))  # redelivered after a crash
    assert len(batches) == before  # the inbox let none of them through again
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM marks") == 3


async def test_records_the_loop_does_not_want_are_skipped_before_any_work(
    world: tuple[asyncpg.Pool, AIOKafkaProducer, str],
) -> None:
    """A follower that needs a few records of a busy topic (intake's Open311 status on case.events.v1)
    skips the rest by key: not decoded, not handled, no inbox row, no dead letter even when unreadable."""
    pool, producer, topic = world
    seen: list[int] = []

    async def handler(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Any]:
        seen.extend(d.envelope.payload(Step).n for d in deliveries)
        return []

    loop = ConsumerLoop(None, producer, pool, {topic: handler}, "test",
                        wanted=lambda record: int(record.key) % 2 == 1)
    records = _records(topic, [(11, "ok"), (12, "ok"), (13, "ok"), (14, "ok")])
    unreadable = dataclasses.replace(records[3], value=b"not an envelope")  # key 14: not wanted
    await loop.handle([*records[:3], unreadable])

    assert seen == [11, 13]
    async with pool.acquire() as conn:
        inbox = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox WHERE event_id LIKE 'step-1_'")}
    assert inbox == {"step-11", "step-13"}
    assert loop.dead_lettered == 0 and loop.processed == 2
