"""Intake over real HTTP on the real stack, beside floors measured in the same run.

- Single tickets: `wrk` (Debian package, installed by `make bench`) drives `POST /v1/hotline/tickets`
  of intake — one uvicorn process (uvloop + httptools), its rate limiter opened up — and of floor (c),
  a bare FastAPI endpoint doing pydantic validation + one awaited acks=all produce (bench/floor_app.py),
  with the same connection count, taking turns round by round. Throughput and p50/p99 latency of each.
- CPU per item: user + system CPU time of the serving process (intake, floor c) per request or incident
  over each round, from /proc — on a shared machine wall-clock rates move with the neighbours' load,
  CPU per request much less.
- Batches: `POST /v1/hotline/tickets:batch` (500 tickets a call, over HTTP, `callers` concurrent
  callers) against raw batched produce of the records intake would publish (in-process, same producer
  settings), taking turns too.
Every ticket carries a fresh number (a reused one would be a duplicate: cheaper, and not the point).
With `profile` (a directory), one more, untimed round of each is sampled with py-spy: the intake process
under wrk (`profile-intake-single.txt`), under the batch callers (`profile-intake-batch.txt`) and floor
(c) under wrk (`profile-floor-c.txt`), raw collapsed stacks, summarised in the results.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
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

from bench.cpu import cpu_of, cpu_seconds, stack_pids
from bench.data import intake_record, synthetic, ticket_body
from bench.profile import attributed, hottest, sampler, stop_sampler
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
    profile: Path | None = None  # directory for the untimed py-spy round's profiles


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


def _groups(port: int) -> tuple[float, float]:
    """Items and groups committed so far, from intake's `gridline_group_commit_items` histogram."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = {}
    for line in text.splitlines():
        for part in ("sum", "count"):
            if line.startswith(f'gridline_group_commit_items_{part}{{service="intake"}}'):
                found[part] = float(line.rsplit(" ", 1)[1])
    return found.get("sum", 0.0), found.get("count", 0.0)


def _mean_group(before: tuple[float, float], after: tuple[float, float]) -> float:
    groups = after[1] - before[1]
    return (after[0] - before[0]) / groups if groups else 0.0


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
    profiles: dict[str, Any] = {}
    cpu_us: dict[str, list[float]] = {"floor": [], "intake": [], "raw": [], "batch": [], "batch_postgres": [],
                                      "batch_kafka": [], "batch_client": []}
    group_sizes: dict[str, list[float]] = {"single": [], "batch": []}
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
        pids = {"floor": floor.pid, "intake": services.procs["intake"].pid}
        for round_no in range(sizes.rounds):
            for name, url in single.items():
                cpu, grouped = cpu_seconds(pids[name]), _groups(intake_port)
                others = stack_pids(stack)
                spent = {other: cpu_of(ps) for other, ps in others.items()}
                got_wrk = await asyncio.to_thread(
                    wrk, url, bodies_file, f"B{run_id}{name[0]}{round_no}", sizes.seconds, sizes.connections)
                cpu_us[name].append((cpu_seconds(pids[name]) - cpu) / got_wrk["requests"] * 1e6)
                for other, ps in others.items():
                    cpu_us.setdefault(f"{name}_{other}", []).append(
                        (cpu_of(ps) - spent[other]) / got_wrk["requests"] * 1e6)
                samples[name].append(got_wrk)
                if name == "intake":
                    group_sizes["single"].append(_mean_group(grouped, _groups(intake_port)))
            bodies = [ticket_body(pool[i % len(pool)], f"BB{run_id}-{round_no}-{i:06d}")
                      for i in range(sizes.batches * BATCH_LIMIT)]
            records = [intake_record(b) for b in bodies]
            began, cpu = time.perf_counter(), time.process_time()
            for start in range(0, len(records), BATCH_LIMIT):
                await publish(producer, records[start:start + BATCH_LIMIT])
            batch_rates["raw"].append(len(records) / (time.perf_counter() - began))
            cpu_us["raw"].append((time.process_time() - cpu) / len(records) * 1e6)
            cpu, grouped = cpu_seconds(pids["intake"]), _groups(intake_port)
            others = stack_pids(stack)
            spent = {name: cpu_of(ps) for name, ps in others.items()}
            client = time.process_time()
            took, got = await _batches(f"http://127.0.0.1:{intake_port}/v1/hotline/tickets:batch",
                                       [ticket_body(pool[i % len(pool)], f"BH{run_id}-{round_no}-{i:06d}")
                                        for i in range(len(bodies))], sizes.callers)
            cpu_us["batch"].append((cpu_seconds(pids["intake"]) - cpu) / len(bodies) * 1e6)
            for name, ps in others.items():
                cpu_us[f"batch_{name}"].append((cpu_of(ps) - spent[name]) / len(bodies) * 1e6)
            cpu_us["batch_client"].append((time.process_time() - client) / len(bodies) * 1e6)
            group_sizes["batch"].append(_mean_group(grouped, _groups(intake_port)))
            batch_rates["http"].append(len(bodies) / took)
            statuses.update(got)
        if sizes.profile is not None:
            profiles = await _profiled_round(sizes, sizes.profile, single, bodies_file, run_id, pool, {
                "intake": services.procs["intake"].pid, "floor": floor.pid}, intake_port)
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
        "batch_statuses": {str(k): v for k, v in statuses.items()},
        "cpu_us_per_item": {n: [round(x) for x in v] for n, v in cpu_us.items()},
        "mean_group_commit_items": {n: [round(x, 1) for x in v] for n, v in group_sizes.items()},
        "cpu_ratio_intake_over_floor_c": round(statistics.median(cpu_us["intake"]) / statistics.median(cpu_us["floor"]),
                                               3)}
    if profiles:
        facts["profiles"] = profiles
    return [*rates, raw_b, http_b], ratios, facts


def _wrk_rate(name: str, runs: list[dict[str, Any]], sizes: IntakeSizes) -> Rate:
    return Rate(name, "requests", tuple(r["per_second"] for r in runs), int(sum(r["requests"] for r in runs)),
                f"wrk -t1 -c{sizes.connections}, {sizes.seconds} s per round, one uvicorn process",
                {"p50_ms": [round(r["p50_ms"], 1) for r in runs], "p99_ms": [round(r["p99_ms"], 1) for r in runs]})


async def _profiled_round(sizes: IntakeSizes, out: Path, single: dict[str, str], bodies_file: Path, run_id: str,
                          pool: list[Any], pids: dict[str, int], intake_port: int) -> dict[str, Any]:
    """Untimed: py-spy on each process while it serves the same load as a timed round."""
    found: dict[str, Any] = {}

    async def sampled(name: str, pid: int, work: Any) -> None:
        path = out / f"profile-{name}.txt"
        path.unlink(missing_ok=True)
        spy = sampler(path, pid)
        try:
            done = await work
        finally:
            stop_sampler(spy)
        found[name] = {"file": str(path), "load": done, **({"by_part": attributed(path), **hottest(path)}
                                                          if path.exists() else {})}

    async def wrk_round(name: str) -> str:
        got = await asyncio.to_thread(wrk, single[name], bodies_file, f"BP{run_id}{name[0]}", sizes.seconds,
                                      sizes.connections)
        return f"{got['per_second']:.0f} req/s under py-spy, p99 {got['p99_ms']:.0f} ms"

    async def batch_round() -> str:
        """As many rounds of batch calls as fill `seconds` (a round alone is too short to sample)."""
        n, took, got, rounds = sizes.batches * BATCH_LIMIT, 0.0, Counter[int](), 0
        while took < sizes.seconds:
            bodies = [ticket_body(pool[i % len(pool)], f"BP{run_id}-{rounds}-{i:06d}") for i in range(n)]
            spent, statuses = await _batches(f"http://127.0.0.1:{intake_port}/v1/hotline/tickets:batch", bodies,
                                             sizes.callers)
            took, rounds = took + spent, rounds + 1
            got.update(statuses)
        return f"{n * rounds / took:.0f} incidents/s under py-spy, statuses {dict(got)}"

    await sampled("intake-single", pids["intake"], wrk_round("intake"))
    await sampled("intake-batch", pids["intake"], batch_round())
    await sampled("floor-c", pids["floor"], wrk_round("floor"))
    return found
