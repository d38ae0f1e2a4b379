"""End to end over HTTP: an open-loop load generator posts the synthetic city's incidents (its mix of
texts, places and urgencies, all as 12345 tickets) to intake at a fixed offered rate, with intake,
router and sla running as their own processes on the bench stack; a consumer on case.events.v1 notes
when each case's `dispatched` event arrives. Latency is from the 202 to that event (both clocks in
this process); achieved rate is dispatched cases per second of the run. One run per offered load,
then a PNG of latency against offered load (matplotlib, Agg).

Not replayed (stated in docs/benchmarks.md): grid reports, WeChat pairs and department actions — the
generator posts every report as a hotline ticket, which exercises the same router and sla paths."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.data import synthetic, ticket_body
from deploy.local.processes import ServiceSet
from deploy.local.stack import Stack
from schemas.topics import CASE_EVENTS

DRAIN_SECONDS = 30.0
IN_FLIGHT = 128  # requests open at once; beyond that the offer waits (answered_per_second shows it)


def _ports() -> dict[str, int]:
    offset = int(os.environ.get("GRIDLINE_PORT_OFFSET", "0"))
    return {"intake": 18301 + offset, "router": 18302 + offset, "sla": 18303 + offset}


class Arrivals:
    """Reads case.events.v1 from its end and notes when each case was first dispatched."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                         isolation_level="read_committed")
        self.dispatched: dict[str, float] = {}
        self.other: dict[str, str] = {}  # case id → first non-created kind when it was not a dispatch
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()
        tps = [TopicPartition(CASE_EVENTS, p) for p in sorted(self.consumer.partitions_for_topic(CASE_EVENTS) or ())]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    kind = dict(r.headers).get("ce_type", b"").decode()
                    case_id = (r.key or b"").decode()
                    if kind.endswith(".dispatched.v1"):
                        self.dispatched.setdefault(case_id, now)
                    elif not kind.endswith(".created.v1"):
                        self.other.setdefault(case_id, kind)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()


async def offered(client: httpx.AsyncClient, url: str, rate: float, seconds: float, tag: str,
                  arrivals: Arrivals) -> dict[str, Any]:
    """Post `rate` tickets a second for `seconds` (open loop: a slow answer does not slow the offer)."""
    pool = synthetic(2000, seed=3000)
    accepted: dict[str, float] = {}
    statuses: dict[int, int] = {}
    in_flight = asyncio.Semaphore(IN_FLIGHT)  # httpx's pool slows down badly with thousands queued

    async def one(i: int) -> None:
        async with in_flight:
            resp = await client.post(url, json=ticket_body(pool[i % len(pool)], f"E2E-{tag}-{i:07d}"),
                                     headers={"X-Api-Key": "dev-hotline-key"})
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        if resp.status_code == 202:
            accepted["C-" + resp.json()["incident_id"]] = time.perf_counter()

    n = int(rate * seconds)
    began = time.perf_counter()
    tasks = []
    for i in range(n):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks, return_exceptions=True)
    sent = time.perf_counter() - began  # until the last answer
    deadline = time.perf_counter() + DRAIN_SECONDS

    def settled() -> bool:
        return all(c in arrivals.dispatched or c in arrivals.other for c in accepted)
    while not settled() and time.perf_counter() < deadline:  # noqa: ASYNC110 — another task fills it
        await asyncio.sleep(0.1)
    mine = {c: arrivals.dispatched[c] - t for c, t in accepted.items() if c in arrivals.dispatched}
    last = max((arrivals.dispatched[c] for c in mine), default=began)
    lat = sorted(max(0.0, v) * 1000 for v in mine.values())

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    return {"offered_per_second": rate, "answered_per_second": round(n / sent, 1), "accepted": len(accepted),
            "dispatched": len(mine), "not_dispatched": len(accepted) - len(mine),
            "dispatched_per_second": round(len(mine) / (last - began), 1) if mine else 0.0,
            "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                           "mean": round(statistics.fmean(lat), 1) if lat else None},
            "statuses": {str(k): v for k, v in statuses.items()}}


async def run(stack: Stack, city_dir: Path, logs: Path, loads: tuple[float, ...], seconds: float,
              plot: Path) -> dict[str, Any]:
    p = _ports()
    env = {**stack.env(), "LOG_LEVEL": "WARNING", "ROUTER_CITY_DIR": str(city_dir),
           "INTAKE_RATE_PER_SECOND": "1e9", "INTAKE_RATE_BURST": "1000000000"}
    services = ServiceSet(env=env, logs=logs / "e2e")
    arrivals = Arrivals(stack.bootstrap)
    runs = []
    try:
        services.start(p)
        await asyncio.to_thread(services.wait_ready, p)
        await arrivals.start()
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            url = f"http://127.0.0.1:{p['intake']}/v1/hotline/tickets"
            tag = uuid.uuid4().hex[:6].upper()
            await offered(client, url, 50, 2, f"{tag}W", arrivals)  # warm-up
            for n, rate in enumerate(loads):
                runs.append(await offered(client, url, rate, seconds, f"{tag}{n}", arrivals))
    finally:
        await arrivals.stop()
        services.stop()
    _plot(runs, plot)
    at_500 = next((r for r in runs if r["offered_per_second"] == 500), None)
    best = max(runs, key=lambda r: r["dispatched_per_second"])
    return {"runs": runs, "at_500_per_second": at_500, "sustained_dispatched_per_second":
            best["dispatched_per_second"], "plot": str(plot), "seconds_per_load": seconds}


def _plot(runs: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["offered_per_second"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for q in ("p50", "p95", "p99"):
        left.plot(x, [r["latency_ms"][q] or float("nan") for r in runs], marker="o", label=q)
    left.set(xlabel="offered load (tickets/s)", ylabel="202 → case.dispatched (ms)", yscale="log",
             title="latency against offered load")
    left.legend()
    right.plot(x, [r["dispatched_per_second"] for r in runs], marker="o", label="dispatched/s")
    right.plot(x, x, linestyle=":", color="grey", label="offered")
    right.set(xlabel="offered load (tickets/s)", ylabel="cases dispatched per second", title="achieved rate")
    right.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
