"""The consumer loop prepares the next poll while the current batch waits on the database: batches are
still handled one after the other in poll order and committed only after their own transaction; what
was prepared reaches the handler; a failing preparer costs nothing but the work it did not do; a stop
leaves the poll fetched ahead unhandled and uncommitted (it is fetched again after a restart)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from runtime.batch import Delivery
from runtime.consumer import PREPARE_CHUNK, ConsumerLoop
from schemas.cloudevents import encode
from schemas.incident import Reporter

TOPIC = "test.ahead.v1"
TP = TopicPartition(TOPIC, 0)


def _records(first: int, n: int) -> list[ConsumerRecord[bytes, bytes]]:
    out = []
    for offset in range(first, first + n):
        r = encode(TOPIC, str(offset), Reporter(kind="citizen", id=str(offset)), type="test.ahead.v1",
                   source="/test", event_id=f"ev-{offset}")
        out.append(ConsumerRecord(TOPIC, 0, offset, 0, 0, r.key, r.value, None, len(r.key or b""),
                                  len(r.value or b""), r.headers))
    return out


class FakeConsumer:
    def __init__(self, polls: list[list[ConsumerRecord[bytes, bytes]]], stop: asyncio.Event,
                 log: list[str]) -> None:
        self.polls, self.stop, self.log = polls, stop, log
        self.commits: list[int] = []

    def assignment(self) -> set[TopicPartition]:
        return set()

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        await asyncio.sleep(0)
        if not self.polls:
            self.stop.set()
            return {}
        records = self.polls.pop(0)
        self.log.append(f"poll {records[0].offset}")
        return {TP: records}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.log.append(f"commit {offsets[TP]}")
        self.commits.append(offsets[TP])

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


class FakeConn:
    async def fetch(self, sql: str, ids: list[str], topics: list[str]) -> list[dict[str, str]]:
        await asyncio.sleep(0.005)  # the inbox statement: the loop may compute meanwhile
        return [{"event_id": i} for i in ids]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield


class FakePool:
    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConn]:
        yield FakeConn()


async def _run(polls: list[list[ConsumerRecord[bytes, bytes]]], *, fail_at: int | None = None,
               stop_after: int | None = None) -> tuple[list[str], list[list[tuple[int, object]]], FakeConsumer]:
    stop = asyncio.Event()
    log: list[str] = []
    handled: list[list[tuple[int, object]]] = []
    consumer = FakeConsumer(polls, stop, log)

    def prepare(deliveries: Sequence[Delivery]) -> None:
        log.append(f"prepare {deliveries[0].record.offset}")
        if fail_at is not None and any(d.record.offset == fail_at for d in deliveries):
            raise ValueError("a bug in the preparer")
        for d in deliveries:
            d.prepared = ("decided", d.record.offset)

    async def handler(conn: Any, deliveries: Sequence[Delivery]) -> list[Any]:
        log.append(f"handle {deliveries[0].record.offset}")
        for _ in range(3):
            await asyncio.sleep(0.005)  # the batch's statements
        handled.append([(d.record.offset, d.prepared) for d in deliveries])
        log.append(f"handled {deliveries[0].record.offset}")
        if stop_after is not None and len(handled) == stop_after:
            stop.set()
        return []

    loop = ConsumerLoop(consumer, None, FakePool(), {TOPIC: handler}, "test",  # type: ignore[arg-type]
                        prepare={TOPIC: prepare})
    await asyncio.wait_for(loop.run(stop), timeout=10)
    return log, handled, consumer


async def test_the_next_poll_is_prepared_while_the_batch_waits_and_batches_stay_in_order() -> None:
    n = PREPARE_CHUNK * 2
    log, handled, consumer = await _run([_records(0, n), _records(n, n), _records(2 * n, n)])
    assert [offset for batch in handled for offset, _ in batch] == list(range(3 * n))
    assert all(prepared == ("decided", offset) for batch in handled for offset, prepared in batch)
    assert consumer.commits == [n, 2 * n, 3 * n]
    # poll 2 was fetched and prepared while batch 1 waited on its statements, before it was committed
    assert log.index(f"prepare {PREPARE_CHUNK}") < log.index(f"poll {n}") < log.index(f"prepare {n}") \
        < log.index("handled 0") < log.index(f"commit {n}")
    assert log.index(f"commit {n}") < log.index(f"handle {n}")  # one batch at a time


async def test_a_failing_preparer_leaves_its_chunk_to_the_handler() -> None:
    n = PREPARE_CHUNK * 2
    _, handled, consumer = await _run([_records(0, n), _records(n, n)], fail_at=n + 1)
    assert [offset for batch in handled for offset, _ in batch] == list(range(2 * n))
    unprepared = [offset for batch in handled for offset, prepared in batch if prepared is None]
    assert unprepared == list(range(n, n + PREPARE_CHUNK))  # the failing chunk only
    assert consumer.commits == [n, 2 * n]


async def test_a_stop_leaves_the_poll_fetched_ahead_unhandled_and_uncommitted() -> None:
    n = PREPARE_CHUNK
    log, handled, consumer = await _run([_records(0, n), _records(n, n), _records(2 * n, n)], stop_after=1)
    assert f"poll {n}" in log  # fetched ahead …
    assert [offset for batch in handled for offset, _ in batch] == list(range(n))  # … but not handled
    assert consumer.commits == [n]
