"""Reading back what a run left: whole topics, consumer lag, and the services' ledgers in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime.ops import consumer_lag


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic`, up to the end offsets seen when called."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        records: list[Any] = []
        while remaining:
            for tp, batch in (await consumer.getmany(*remaining, timeout_ms=500)).items():
                records.extend(r for r in batch if r.offset < ends[tp])
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def until_no_lag(bootstrap: str, groups: list[str], timeout: float = 300) -> dict[str, set[str]]:
    """Wait until every partition of every group is consumed to its end; the topics of each group."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            rows = await consumer_lag(bootstrap, groups)
        except Exception:  # the broker may still be electing coordinators
            rows = []
        behind = [r for r in rows if r.lag]
        if rows and not behind and {r.group for r in rows} == set(groups):
            topics: dict[str, set[str]] = defaultdict(set)
            for r in rows:
                topics[r.group].add(r.topic)
            return dict(topics)
        if loop.time() > deadline:
            raise AssertionError(f"consumers still behind: {behind[:10]}")
        await asyncio.sleep(1)


@dataclass
class CaseLog:
    """case.events.v1 read whole: distinct events per (case, seq), and how many copies repeated a ce_id."""

    by_case: dict[str, dict[int, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    repeated: int = 0

    @classmethod
    def of(cls, records: list[Any]) -> CaseLog:
        log, seen = cls(), set()
        for r in records:
            body = json.loads(r.value)
            ce_id = dict(r.headers)["ce_id"].decode()
            if ce_id in seen:
                log.repeated += 1
            seen.add(ce_id)
            log.by_case[body["case_id"]][body["seq"]].add(ce_id)
        return log


async def fetch(url: str, query: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()
