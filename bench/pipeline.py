"""The router end to end: records on intake.hotline.v1 → cases in PostgreSQL → events out of the outbox.

Each round produces K fresh incidents (untimed), reads them with a bare consumer, runs floors (a) and
(b) over the same records (bench/floors.py), then starts the router in-process and times it from the
moment its consumer holds partitions until every case exists and the outbox is drained. Router
start-up (tables, migrations, group join) is reported apart, not counted in the rate.

With `open_cases`, one more round runs after that many open cases were written to router.cases
(spread over 30 days, a tenth of them inside the duplicate window): cost per incident as the open
backlog grows. With `profile`, py-spy samples the last round's router (raw collapsed stacks), and the
open-cases round's into `<profile>-open-cases.txt`.
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

from bench import floors
from bench.cpu import Meter
from bench.data import hotline_record, synthetic, to_incident
from bench.infra import wait_assigned
from bench.profile import sampler, stop_sampler
from bench.timing import Rate, Ratio
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.topics import INTAKE_HOTLINE
from services.router.app import create_app
from services.router.settings import RouterSettings

POLL_SECONDS = 0.02
ROUTER_RATE = "router: record → case + events out"
FLOOR_A = "floor (a): consume → produce"
FLOOR_B = "floor (b): consume → PostgreSQL batch → produce"


@dataclass(frozen=True)
class PipelineSizes:
    incidents: int = 3000  # K per round
    rounds: int = 3
    consume_passes: int = 20  # the bare consumer reads the round's records this many times
    timeout: float = 300.0  # per round, for the router to route everything
    open_cases: int = 0  # 1,000,000 for the backlog round
    profile: Path | None = None  # py-spy output for the last round's router


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


async def route_all(stack: Stack, city_dir: Path, expect_cases: int,
                    profile: Path | None = None) -> tuple[float, float, float, dict[str, float]]:
    """(seconds, start-up seconds, mean poll batch, CPU seconds by process) of an in-process router until
    `expect_cases` exist and the outbox is empty. The CPU: this process (the router's loop, and the
    bench's polling of the counts), the router's decision worker, the broker, PostgreSQL."""
    # a router that starts with its decision worker (if it has one) ready: the rate is the steady state's,
    # the worker's start-up is counted in the start-up
    settings = RouterSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url, city_dir=city_dir,
                              log_level="WARNING", decision_worker_wait_seconds=120)
    app = create_app(settings)
    booting = time.perf_counter()
    async with app.router.lifespan_context(app):
        await wait_assigned(app.state.router.consumer)
        decider = getattr(app.state.router.context, "decider", None)  # None: a router without one
        spy = sampler(profile)
        workers = [decider.pid] if decider is not None and decider.pid else []
        meter = Meter(stack, {"decisions": workers})
        began = time.perf_counter()
        conn = await asyncpg.connect(stack.database_url)
        try:
            cases, pending = await _routed(conn)
            while cases < expect_cases or pending:
                await asyncio.sleep(POLL_SECONDS)
                cases, pending = await _routed(conn)
                if decider is not None and decider.pid and decider.pid not in workers:
                    workers.append(decider.pid)  # started again meanwhile (the one before is lost)
            took = time.perf_counter() - began
            cpu = meter.read({"decisions": workers})
        finally:
            await conn.close()
            stop_sampler(spy)
        loop = app.state.router.plumbing.consumer_loop
        mean_batch = loop.processed / loop.batches if loop and loop.batches else 0.0
    return took, began - booting, mean_batch, cpu


async def run(stack: Stack, city_dir: Path, sizes: PipelineSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    samples: dict[str, list[float]] = {"bare": [], "a": [], "b": [], "router": [], "startup": [], "batch": []}
    cpu_us: dict[str, list[float]] = {}
    total = 0
    start = await _end_offsets(stack.bootstrap)
    await floors.prepare(stack, len(start))
    big: dict[str, float] = {}
    rounds = sizes.rounds + (1 if sizes.open_cases else 0)
    for round_no in range(rounds):
        backlog = sizes.open_cases and round_no == rounds - 1
        if backlog:
            big["seed_seconds"] = await seed_open_cases(stack.database_url, sizes.open_cases)
        start = await _end_offsets(stack.bootstrap)
        await _produce(stack.bootstrap, round_no, sizes.incidents)
        async with asyncio.timeout(sizes.timeout):
            bare = await bare_consume(stack.bootstrap, start, sizes.incidents, sizes.consume_passes)
            a = await floors.consume_produce(stack, start, sizes.incidents, database=False)
            meter = Meter(stack)
            b = await floors.consume_produce(stack, start, sizes.incidents, database=True)
            floor_cpu = meter.read()
        total += sizes.incidents
        profile = sizes.profile if round_no == sizes.rounds - 1 else None
        if backlog and sizes.profile is not None:
            profile = open_cases_profile(sizes.profile)
        async with asyncio.timeout(sizes.timeout):
            took, boot, batch, cpu = await route_all(stack, city_dir, total + (sizes.open_cases if backlog else 0),
                                                     profile)
        if backlog:
            big.update(router=sizes.incidents / took, floor_b=b)
            continue
        for name, value in (("bare", bare), ("a", a), ("b", b), ("router", sizes.incidents / took),
                            ("startup", boot), ("batch", batch)):
            samples[name].append(value)
        for prefix, spent in (("router", cpu), ("floor_b", floor_cpu)):
            for name, seconds in spent.items():
                cpu_us.setdefault(f"{prefix}_{name}", []).append(seconds / sizes.incidents * 1e6)
    conn = await asyncpg.connect(stack.database_url)
    try:
        states = Counter({r["state"]: r["n"] for r in await conn.fetch(
            "SELECT state, count(*) AS n FROM router.cases WHERE case_id NOT LIKE 'C-OPEN-%' GROUP BY state")})
        events = await conn.fetchval("SELECT count(*) FROM router.outbox")
    finally:
        await conn.close()
    k = sizes.incidents
    bare = Rate("bare consumer read", "records", tuple(samples["bare"]), k,
                f"aiokafka getmany, assigned, no group; median of {sizes.consume_passes} passes")
    floor_a = Rate(FLOOR_A, "records", tuple(samples["a"]), k,
                   "poll batch → produce each (acks=all, idempotent) → await acks → commit offsets (floor a)")
    floor_b = Rate(FLOOR_B, "records", tuple(samples["b"]), k,
                   "(a) + one PostgreSQL transaction per batch: inbox, state upsert, outbox; mark sent (floor b)")
    router = Rate(ROUTER_RATE, "incidents", tuple(samples["router"]), k,
                  "in-process router; clock starts once it holds partitions",
                  {"startup_seconds": [round(s, 2) for s in samples["startup"]],
                   "mean_poll_batch": [round(s, 1) for s in samples["batch"]]})
    ratios = [Ratio("router / floor (b)", router, floor_b, "target ≥ 0.6"),
              Ratio("router / floor (a)", router, floor_a, "fraction of consume→produce"),
              Ratio("floor (b) / floor (a)", floor_b, floor_a, "what the database transaction costs")]
    facts: dict[str, Any] = {"cases_by_state": dict(states), "case_events_published": int(events),
                             "incidents": total,
                             # CPU µs per incident (router) and per record (floor b), by process, per round
                             "cpu_us_per_item": {n: [round(x) for x in v] for n, v in cpu_us.items()}}
    if big:
        facts["open_cases_round"] = {
            "open_cases": sizes.open_cases, "router_per_second": round(big["router"], 1),
            "floor_b_per_second": round(big["floor_b"], 1), "seed_seconds": round(big["seed_seconds"], 1),
            "router_vs_empty_database": round(big["router"] / router.median, 3),
            "router_over_floor_b": round(big["router"] / big["floor_b"], 3),
            "router_over_floor_b_empty_database": round(router.median / floor_b.median, 3),
            # the flatness figure: router / floor (b) with the open cases over the same without them (each
            # ratio measured within its own round, so the machine's load in between cancels out)
            "per_floor_vs_empty_database": round((big["router"] / big["floor_b"]) / (router.median / floor_b.median),
                                                 3)}
    return [bare, floor_a, floor_b, router], ratios, facts


def open_cases_profile(profile: Path) -> Path:
    """Where the py-spy profile of the open-cases round goes (beside the last small-database round's)."""
    return profile.with_name(profile.stem + "-open-cases" + profile.suffix)


async def seed_open_cases(url: str, n: int) -> float:
    """`n` open cases copied from the dispatched ones, opened over the last 30 days; returns seconds."""
    began = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        templates = await conn.fetchval("SELECT count(*) FROM router.cases WHERE state = 'dispatched'")
        cols = [c for c in (await conn.fetchval(
            "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
            "WHERE table_schema = 'router' AND table_name = 'cases'")).split(",")]
        special = {"case_id": "'C-OPEN-' || g", "incident_id": "'OPEN-' || g",
                   "opened_at": "now() - make_interval(hours => g % 720)", "closed_at": "NULL"}
        select = ", ".join(special.get(c, f"t.{c}") for c in cols)
        for lo in range(0, n, 200_000):
            await conn.execute(
                f"WITH t AS (SELECT *, row_number() OVER (ORDER BY case_id) - 1 AS rn FROM router.cases "
                f"WHERE state = 'dispatched') INSERT INTO router.cases ({', '.join(cols)}) "
                f"SELECT {select} FROM generate_series($1::int, $2::int) g JOIN t ON t.rn = g % {int(templates)}",
                lo, min(n, lo + 200_000) - 1)
        # vacuumed and analysed as a live database would be, not by autovacuum in the middle of the round
        await conn.execute("VACUUM (ANALYZE) router.cases")
    finally:
        await conn.close()
    return time.perf_counter() - began
