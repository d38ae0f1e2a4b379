"""Intake over real HTTP on the real stack, beside floors measured in the same run.

- Single tickets: `wrk` (Debian package, installed by `make bench`) drives `POST /v1/hotline/tickets`
  of intake — one uvicorn process (uvloop + httptools), its rate limiter opened up — and of floor (c),
  a bare FastAPI endpoint doing pydantic validation + one awaited acks=all produce (bench/floor_app.py),
  with the same connection count, taking turns round by round. Throughput and p50/p99 latency of each.
- Batches: `POST /v1/hotline/tickets:batch` (500 tickets a call, over HTTP, `callers` concurrent
  callers) against raw batched produce of the records intake would publish (in-process, same producer
  settings), taking turns too.
Every ticket carries a fresh number (a reused one would be a duplicate: cheaper, and not the point).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.data import intake_record, synthetic, ticket_body
from bench.timing import Rate, Ratio
from deploy.local.processes import ROOT, ServiceSet
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish

HOTLINE_KEY = {"X-Api-Key": "dev-hotline-key"}
BATCH_LIMIT = 500  # HotlineBatch.tickets max_length
LUA = Path(__file__).resolve().parent / "wrk" / "tickets.lua"


@dataclass(frozen=True)
class IntakeSizes:
    seconds: int = 10  # per wrk round
    connections: int = 64  # wrk -c, for intake and floor (c) alike
    batches: int = 8  # calls per round to …/tickets:batch
    callers: int = 2  # concurrent batch callers
    rounds: int = 3
    warmup: int = 3  # seconds of wrk before the rounds


def _port(base: int) -> int:
    return base + int(os.environ.get("GRIDLINE_PORT_OFFSET", "0"))


def wrk(url: str, bodies: Path, run: str, seconds: int, connections: int) -> dict[str, Any]:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (make bench installs the Debian package)")
    env = {**os.environ, "BENCH_BODIES": str(bodies), "BENCH_RUN": run}
    out = subprocess.run([exe, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "15s", "-s", str(LUA), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


async def _batches(url: str, bodies: list[dict[str, Any]], callers: int) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    calls = iter(range(0, len(bodies), BATCH_LIMIT))
    async with httpx.AsyncClient(timeout=120) as client:
        async def caller() -> None:
            for start in calls:
                resp = await client.post(url, json={"tickets": bodies[start:start + BATCH_LIMIT]}, headers=HOTLINE_KEY)
                if resp.status_code != 207:
                    statuses[resp.status_code] += BATCH_LIMIT
                    continue
                statuses.update(item["status"] for item in resp.json()["results"])

        began = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(callers)))
    return time.perf_counter() - began, statuses


def _ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


async def run(stack: Stack, sizes: IntakeSizes, logs: Path) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    pool = synthetic(2000, seed=2000)
    tmp = Path(tempfile.mkdtemp(prefix="gridline-bench-bodies-"))
    bodies_file = tmp / "tickets.jsonl"
    bodies_file.write_text("\n".join(json.dumps(ticket_body(inc, "@@NO@@"), ensure_ascii=False) for inc in pool))
    intake_port, floor_port = _port(18101), _port(18102)
    env = {**stack.env(), "LOG_LEVEL": "WARNING", "INTAKE_RATE_PER_SECOND": "1e9", "INTAKE_RATE_BURST": "1000000000",
           "BENCH_FLOOR_PORT": str(floor_port)}
    services = ServiceSet(env=env, logs=logs)
    services.start({"intake": intake_port})
    floor = subprocess.Popen(  # noqa: ASYNC220 — started once, before anything is timed
        [sys.executable, "-m", "bench.floor_app"], cwd=ROOT, env={**os.environ, **env},
        stdout=(logs / "floor_c.log").open("ab"), stderr=subprocess.STDOUT)
    samples: dict[str, list[dict[str, Any]]] = {"floor": [], "intake": []}
    batch_rates: dict[str, list[float]] = {"raw": [], "http": []}
    statuses: Counter[int] = Counter()
    run_id = uuid.uuid4().hex[:6].upper()
    producer = make_producer(stack.bootstrap, client_id="bench-raw")
    await producer.start()
    try:
        await asyncio.to_thread(services.wait_ready, {"intake": intake_port})
        await asyncio.to_thread(_ready, f"http://127.0.0.1:{floor_port}/docs")
        single = {"floor": f"http://127.0.0.1:{floor_port}/v1/hotline/tickets",
                  "intake": f"http://127.0.0.1:{intake_port}/v1/hotline/tickets"}
        for name, url in single.items():
            await asyncio.to_thread(wrk, url, bodies_file, f"BW{run_id}{name[0]}", sizes.warmup, sizes.connections)
        for round_no in range(sizes.rounds):
            for name, url in single.items():
                samples[name].append(await asyncio.to_thread(
                    wrk, url, bodies_file, f"B{run_id}{name[0]}{round_no}", sizes.seconds, sizes.connections))
            bodies = [ticket_body(pool[i % len(pool)], f"BB{run_id}-{round_no}-{i:06d}")
                      for i in range(sizes.batches * BATCH_LIMIT)]
            records = [intake_record(b) for b in bodies]
            began = time.perf_counter()
            for start in range(0, len(records), BATCH_LIMIT):
                await publish(producer, records[start:start + BATCH_LIMIT])
            batch_rates["raw"].append(len(records) / (time.perf_counter() - began))
            took, got = await _batches(f"http://127.0.0.1:{intake_port}/v1/hotline/tickets:batch",
                                       [ticket_body(pool[i % len(pool)], f"BH{run_id}-{round_no}-{i:06d}")
                                        for i in range(len(bodies))], sizes.callers)
            batch_rates["http"].append(len(bodies) / took)
            statuses.update(got)
    finally:
        await producer.stop()
        services.stop()
        floor.terminate()
        floor.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)
    if statuses[202] != sum(statuses.values()):
        raise RuntimeError(f"batched tickets not all accepted: {dict(statuses)}")
    rates = [_wrk_rate("floor (c): bare FastAPI + pydantic + awaited produce", samples["floor"], sizes),
             _wrk_rate("intake POST /v1/hotline/tickets", samples["intake"], sizes)]
    nb = sizes.batches * BATCH_LIMIT
    raw_b = Rate(f"raw produce, batches of {BATCH_LIMIT}", "records", tuple(batch_rates["raw"]), nb,
                 "in-process, one sender, each batch awaited (baseline)")
    http_b = Rate(f"intake POST …/tickets:batch ({BATCH_LIMIT}/call)", "incidents", tuple(batch_rates["http"]), nb,
                  f"over HTTP, {sizes.callers} concurrent callers; target ≥ 10,000/s")
    floor_c, intake_1 = rates
    p99 = {n: [s["p99_ms"] for s in samples[n]] for n in samples}
    ratios = [Ratio("intake single / floor (c) req/s", intake_1, floor_c, "target ≥ 0.8"),
              Ratio("intake batch / raw batched produce", http_b, raw_b, "target ≥ 0.6")]
    facts = {"p99_ms": p99, "p99_ratio_intake_over_floor_c": round(
        sorted(p99["intake"])[len(p99["intake"]) // 2] / sorted(p99["floor"])[len(p99["floor"]) // 2], 3),
        "wrk": f"wrk -t1 -c{sizes.connections} -d{sizes.seconds}s", "non2xx": {
            n: sum(s["non2xx"] + s["socket_errors"] for s in samples[n]) for n in samples},
        "batch_statuses": {str(k): v for k, v in statuses.items()}}
    return [*rates, raw_b, http_b], ratios, facts


def _wrk_rate(name: str, runs: list[dict[str, Any]], sizes: IntakeSizes) -> Rate:
    return Rate(name, "requests", tuple(r["per_second"] for r in runs), int(sum(r["requests"] for r in runs)),
                f"wrk -t1 -c{sizes.connections}, {sizes.seconds} s per round, one uvicorn process",
                {"p50_ms": [round(r["p50_ms"], 1) for r in runs], "p99_ms": [round(r["p99_ms"], 1) for r in runs]})
