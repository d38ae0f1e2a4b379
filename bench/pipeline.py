"""The router end to end: records on intake.hotline.v1 → cases in PostgreSQL → events out of the outbox.

Each round produces K fresh incidents (untimed), reads them with a bare consumer (the baseline), then
starts the router in-process and times it from the moment its consumer holds partitions until every
case exists and the outbox is drained. Router start-up (tables, migrations, group join) is reported
apart, not counted in the rate.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.data import hotline_record, synthetic, to_incident
from bench.infra import wait_assigned
from bench.timing import Rate, Ratio
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.topics import INTAKE_HOTLINE
from services.router.app import create_app
from services.router.settings import RouterSettings

POLL_SECONDS = 0.02
ROUTER_RATE = "router: record → case + events out"


@dataclass(frozen=True)
class PipelineSizes:
    incidents: int = 1500  # K per round
    rounds: int = 2
    consume_passes: int = 20  # the bare consumer reads the round's records this many times
    timeout: float = 120.0  # per round, for the router to route everything


async def _end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(INTAKE_HOTLINE, p) for p in sorted(consumer.partitions_for_topic(INTAKE_HOTLINE) or ())]
        if not tps:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(INTAKE_HOTLINE) or ()
            tps = [TopicPartition(INTAKE_HOTLINE, p) for p in sorted(parts)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


async def _produce(bootstrap: str, round_no: int, n: int) -> None:
    incidents = synthetic(n, seed=1000 + round_no)  # a new stretch of the city's life each round
    records = [hotline_record(to_incident(inc, f"HL-BENCH-P{round_no}-{i:06d}")) for i, inc in enumerate(incidents)]
    producer = make_producer(bootstrap, client_id="bench-feeder")
    await producer.start()
    try:
        for start in range(0, len(records), 500):
            await publish(producer, records[start:start + 500])
    finally:
        await producer.stop()


async def bare_consume(bootstrap: str, start: dict[TopicPartition, int], n: int, passes: int) -> float:
    """Records/s of a plain consumer reading the `n` records from `start` (assigned, no group, no handler):
    one untimed pass, then the median of `passes` timed ones (a single pass takes only milliseconds)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed", max_poll_records=500)
    await consumer.start()
    try:
        consumer.assign(list(start))
        rates = []
        for _ in range(passes + 1):
            for tp, offset in start.items():
                consumer.seek(tp, offset)
            seen = 0
            began = time.perf_counter()
            while seen < n:
                batch = await consumer.getmany(timeout_ms=200, max_records=500)
                seen += sum(len(records) for records in batch.values())
            rates.append(seen / (time.perf_counter() - began))
        return statistics.median(rates[1:])
    finally:
        await consumer.stop()


async def _routed(conn: asyncpg.Connection) -> tuple[int, int]:
    cases = await conn.fetchval("SELECT count(*) FROM router.cases")
    pending = await conn.fetchval("SELECT count(*) FROM router.outbox WHERE sent_at IS NULL")
    return int(cases), int(pending)


async def route_all(stack: Stack, city_dir: Path, expect_cases: int) -> tuple[float, float]:
    """(seconds, start-up seconds) of an in-process router until `expect_cases` exist and the outbox
    is empty."""
    settings = RouterSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url, city_dir=city_dir,
                              log_level="WARNING")
    app = create_app(settings)
    booting = time.perf_counter()
    async with app.router.lifespan_context(app):
        await wait_assigned(app.state.router.consumer)
        began = time.perf_counter()
        conn = await asyncpg.connect(stack.database_url)
        try:
            cases, pending = await _routed(conn)
            while cases < expect_cases or pending:
                await asyncio.sleep(POLL_SECONDS)
                cases, pending = await _routed(conn)
            took = time.perf_counter() - began
        finally:
            await conn.close()
    return took, began - booting


async def run(stack: Stack, city_dir: Path, sizes: PipelineSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    raw: list[float] = []
    routed: list[float] = []
    startup: list[float] = []
    total = 0
    for round_no in range(sizes.rounds):
        start = await _end_offsets(stack.bootstrap)
        await _produce(stack.bootstrap, round_no, sizes.incidents)
        async with asyncio.timeout(sizes.timeout):
            raw.append(await bare_consume(stack.bootstrap, start, sizes.incidents, sizes.consume_passes))
        total += sizes.incidents
        async with asyncio.timeout(sizes.timeout):
            took, boot = await route_all(stack, city_dir, total)
        routed.append(sizes.incidents / took)
        startup.append(boot)
    conn = await asyncpg.connect(stack.database_url)
    try:
        states = Counter({r["state"]: r["n"] for r in await conn.fetch(
            "SELECT state, count(*) AS n FROM router.cases GROUP BY state")})
        events = await conn.fetchval("SELECT count(*) FROM router.outbox")
    finally:
        await conn.close()
    k = sizes.incidents
    bare = Rate("bare consumer read", "records", tuple(raw), k,
                f"aiokafka getmany, assigned, no group; median of {sizes.consume_passes} passes (baseline)")
    router = Rate(ROUTER_RATE, "incidents", tuple(routed), k,
                  "in-process router; clock starts once it holds partitions",
                  {"startup_seconds": [round(s, 2) for s in startup]})
    facts = {"cases_by_state": dict(states), "case_events_published": int(events), "incidents": total}
    return [bare, router], [Ratio("router / bare consume", router, bare, "fraction of raw consume speed")], facts
