"""sla's durable timer with 1,000,000 open deadlines in PostgreSQL (`python -m bench --only sla`, or alone:
`python -m bench.sla [--deadlines N]` against $DATABASE_URL or the bench stack).

The table holds `deadlines` open stages, almost all due years ahead (they are what the timer's index must
not scan). Then, in rounds, three fresh sets of rows, each the same size, each inserted untimed:
- **floor**: rows already due, fired by a bare loop on the same table and indexes — `SELECT … WHERE
  state = 'running' AND due_at <= now ORDER BY due_at LIMIT k FOR UPDATE SKIP LOCKED` + one `UPDATE` per
  batch, in one transaction per batch (what any timer on this table must do at least);
- **burst**: rows already due, fired by sla's own `fire_due` (decide, write the stage, the outbox rows,
  and for every fourth an escalation with its numbered document) with the same batch size k;
- **lateness**: rows coming due at a steady rate over a few seconds, fired by sla's timer loop
  (`run_timer`, `SLA_TIMER_INTERVAL_SECONDS`); lateness = the outbox row's time (its transaction's start)
  minus the deadline, per deadline.
EXPLAIN (ANALYZE, BUFFERS) of the timer's two claims is taken at full size before the rounds (nothing due:
what an idle tick costs) and with the first burst waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.profile import hottest, sampler, stop_sampler
from bench.timing import Rate, Ratio
from runtime.db import create_pool, migrate
from runtime.telemetry import configure_tracing
from services.sla.adapters.calendar_files import load_calendar
from services.sla.adapters.repository import DUE_CLAIM, WARN_CLAIM
from services.sla.bootstrap import SQL, load_templates
from services.sla.domain.deadlines import Rules
from services.sla.handlers.context import Paperwork, SlaContext
from services.sla.handlers.timers import fire_due, run_timer
from services.sla.settings import SlaSettings

SCHEMA = "sla_bench"
FIRED_RATE = "sla timer: deadlines fired"
FLOOR_RATE = "floor: SELECT … FOR UPDATE SKIP LOCKED LIMIT k + UPDATE"


@dataclass(frozen=True)
class SlaSizes:
    deadlines: int = 1_000_000  # open deadlines in the table
    burst: int = 20_000  # rows per burst and floor round
    rounds: int = 3
    lateness: int = 15_000  # rows coming due during the lateness round
    lateness_seconds: float = 5.0  # … spread evenly over this long
    batch: int = 200  # k: SLA_TIMER_BATCH
    interval: float = SlaSettings().timer_interval_seconds
    profile: Path | None = None  # py-spy output (raw collapsed stacks) sampled over the burst rounds


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    finally:
        await conn.close()


async def _insert(pool: asyncpg.Pool, prefix: str, count: int, due: list[datetime]) -> None:
    """`count` open accept stages (one case each) with these deadlines; every fourth has a rung left."""
    started = datetime.now(UTC) - timedelta(days=1)
    cases = [(f"{prefix}-{i}",) for i in range(count)]
    rows = [(f"{prefix}-{i}", 1, 1, "accept", "running", "2h", False, started, 7200.0, due[i], None, True,
             f"DEPT-{i % 30}", "district", f"ST-{i % 12}", '["supervision"]' if i % 4 == 0 else "[]", 0,
             f"CM-{i % 120}", started, 7200.0) for i in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table("sla_cases", records=cases, columns=["case_id"], schema_name=SCHEMA)
        await conn.copy_records_to_table(
            "deadlines", records=rows, schema_name=SCHEMA,
            columns=["case_id", "gen", "rev", "stage", "state", "limit_text", "working", "started_at", "allowed_s",
                     "due_at", "warn_at", "warned", "owner", "level", "street_id", "ladder", "warnings",
                     "community_id", "run_from", "run_for_s"])


async def _floor(pool: asyncpg.Pool, batch: int) -> int:
    fired = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT case_id, gen FROM deadlines WHERE state = 'running' AND due_at <= $1 "
                "ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED", datetime.now(UTC), batch)
            if rows:
                await conn.execute(
                    "UPDATE deadlines SET state = 'overdue' WHERE (case_id, gen) IN "
                    "(SELECT * FROM unnest($1::text[], $2::int[]))",
                    [r["case_id"] for r in rows], [r["gen"] for r in rows])
        fired += len(rows)
        if len(rows) < batch:
            return fired


async def _explain(pool: asyncpg.Pool, batch: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the timer's two claims, exactly as sla sends them."""
    lines: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        for name, sql in (("due claim", DUE_CLAIM), ("warning claim", WARN_CLAIM)):
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", datetime.now(UTC), batch)
            lines += [f"-- {name}", *(r[0] for r in rows)]
    return lines


def _context(pool: asyncpg.Pool, batch: int) -> SlaContext:
    s = SlaSettings()
    rules = Rules(load_calendar(s.calendar_dir), s.warn_shares, s.rung_limits, s.verify_within)
    return SlaContext(pool=pool, rules=rules, relay=None, clock=lambda: datetime.now(UTC), timer_batch=batch,
                      paperwork=Paperwork(s.district_code, s.district_name, load_templates(s.templates_dir)))


async def _lateness(pool: asyncpg.Pool, ctx: SlaContext, sizes: SlaSizes) -> list[float]:
    begin = datetime.now(UTC) + timedelta(seconds=3)  # inserted before the first comes due
    step = sizes.lateness_seconds / sizes.lateness
    due = [begin + timedelta(seconds=i * step) for i in range(sizes.lateness)]
    await _insert(pool, "L", sizes.lateness, due)
    stop = asyncio.Event()
    timer = asyncio.create_task(run_timer(ctx, stop, sizes.interval))
    try:
        async with pool.acquire() as conn:
            for _ in range(int((sizes.lateness_seconds + 120) / 0.5)):
                left = await conn.fetchval("SELECT count(*) FROM deadlines WHERE case_id LIKE 'L-%' "
                                           "AND state = 'running'")
                if left == 0:
                    break
                await asyncio.sleep(0.5)
    finally:
        stop.set()
        await timer
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM o.created_at - d.due_at) AS late FROM outbox o JOIN deadlines d "
            "ON o.event_id = 'SLA-' || d.case_id || '-' || d.gen || '.' || d.rev || '-overdue' "
            "WHERE d.case_id LIKE 'L-%'")
    return sorted(float(r["late"]) for r in rows)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p * (len(values) - 1)))] if values else float("nan")


async def run(database_url: str, sizes: SlaSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    configure_tracing("sla")  # as the service runs: a tracer provider and a span per asyncpg query
    await _reset(database_url)
    await migrate(database_url, SCHEMA, SQL)
    pool = await create_pool(database_url, SCHEMA, max_size=4)
    try:
        far = datetime.now(UTC) + timedelta(days=3650)
        background = sizes.deadlines - sizes.lateness
        t = time.perf_counter()
        for start in range(0, background, 100_000):  # open deadlines due years from now, in slices
            n = min(100_000, background - start)
            await _insert(pool, f"X{start}", n, [far + timedelta(seconds=i) for i in range(n)])
        loaded = time.perf_counter() - t
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE deadlines; ANALYZE sla_cases")
        plan = await _explain(pool, sizes.batch)
        ctx = _context(pool, sizes.batch)
        floor_samples, fired_samples = [], []
        floor_cpu = fired_cpu = 0.0  # this process's CPU seconds (Python and asyncpg, not PostgreSQL's)
        plan_busy: list[str] = []
        past = datetime.now(UTC) - timedelta(hours=1)
        for r in range(sizes.rounds):
            await _insert(pool, f"F{r}", sizes.burst, [past] * sizes.burst)
            t, cpu = time.perf_counter(), time.process_time()
            assert await _floor(pool, sizes.batch) == sizes.burst
            floor_samples.append(sizes.burst / (time.perf_counter() - t))
            floor_cpu += time.process_time() - cpu
            await _insert(pool, f"B{r}", sizes.burst, [past] * sizes.burst)
            if r == 0:  # the claims again with a burst waiting (untimed)
                plan_busy = await _explain(pool, sizes.batch)
            spy = sampler(sizes.profile if r == sizes.rounds - 1 else None, idle=True)  # the last round
            t, cpu = time.perf_counter(), time.process_time()
            written = await fire_due(ctx, datetime.now(UTC))
            fired_samples.append(sizes.burst / (time.perf_counter() - t))
            fired_cpu += time.process_time() - cpu
            stop_sampler(spy)
            assert written >= sizes.burst, written
        late = await _lateness(pool, ctx, sizes)
        async with pool.acquire() as conn:
            open_now = await conn.fetchval("SELECT count(*) FROM deadlines WHERE state = 'running'")
            documents = await conn.fetchval("SELECT count(*) FROM documents")
    finally:
        await pool.close()
    fired = Rate(FIRED_RATE, "deadlines", tuple(fired_samples), sizes.burst,
                 f"fire_due, k={sizes.batch}: stage, outbox, every 4th an escalation + document")
    floor = Rate(FLOOR_RATE, "deadlines", tuple(floor_samples), sizes.burst, f"k={sizes.batch}, same table")
    facts = {
        "open_deadlines": sizes.deadlines, "open_after_rounds": open_now, "documents_issued": documents,
        "bulk_load_seconds": round(loaded, 1),
        "process_cpu_ms_per_1000_fired": round(fired_cpu * 1e6 / (sizes.rounds * sizes.burst), 1),
        "process_cpu_ms_per_1000_floor": round(floor_cpu * 1e6 / (sizes.rounds * sizes.burst), 1),
        "timer_interval_seconds": sizes.interval,
        "lateness_deadlines": len(late), "lateness_seconds_p50": round(_pct(late, 0.5), 3),
        "lateness_seconds_p99": round(_pct(late, 0.99), 3), "lateness_seconds_max": round(max(late), 3) if late
        else None, "lateness_seconds_mean": round(statistics.fmean(late), 3) if late else None,
        "explain_timer_query": plan, "explain_timer_query_burst_due": plan_busy,
    }
    if sizes.profile is not None and sizes.profile.exists():
        facts["profile"] = {"file": str(sizes.profile), **hottest(sizes.profile)}
    return [fired, floor], [Ratio("sla timer / floor", fired, floor, "share of the bare claim-and-mark rate")], facts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sla", description=__doc__.split("\n")[0])
    p.add_argument("--deadlines", type=int, default=SlaSizes.deadlines)
    p.add_argument("--burst", type=int, default=SlaSizes.burst)
    p.add_argument("--rounds", type=int, default=SlaSizes.rounds)
    p.add_argument("--lateness", type=int, default=SlaSizes.lateness, help="deadlines coming due in the lateness round")
    p.add_argument("--batch", type=int, default=SlaSizes.batch, help="k: SLA_TIMER_BATCH, also the floor's")
    p.add_argument("--profile", type=Path, help="sample the burst rounds with py-spy into this file (raw stacks)")
    args = p.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if url is None:
        from deploy.local import stack as local_stack
        stack = local_stack.up(local_stack.stack_for("bench"))
        url = stack.database_url
    sizes = SlaSizes(deadlines=args.deadlines, burst=args.burst, rounds=args.rounds, lateness=args.lateness,
                     batch=args.batch, profile=args.profile)
    rates, ratios, facts = asyncio.run(run(url, sizes))
    for rate in rates:
        print(f"{rate.name}: {rate.median:,.0f}/s (samples {', '.join(f'{s:,.0f}' for s in rate.samples)})")
    for ratio in ratios:
        print(f"{ratio.name}: {ratio.value:.2f}")
    for key, value in facts.items():
        if key not in ("explain_timer_query", "explain_timer_query_burst_due", "profile"):
            print(f"{key}: {value}")
    for kind, frames in facts.get("profile", {}).items():
        if kind != "file":
            print(f"profile {kind}:", *(f"  {share:6.1%}  {frame}" for frame, share in frames), sep="\n")
    print("EXPLAIN, nothing due:", *facts["explain_timer_query"], sep="\n")
    print(f"EXPLAIN, {sizes.burst:,} due:", *facts["explain_timer_query_burst_due"], sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
