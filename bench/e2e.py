"""End to end over HTTP: an open-loop load generator replays the synthetic city's mix — 12345 tickets,
grid workers' reports from the app (the item picked; a fifth handled on the spot) and WeChat
mini-program submissions, in simcity's proportions (about 5 : 3 : 2) — to intake at a fixed offered
rate, with intake, router and sla running as their own processes on the bench stack; a consumer on
case.events.v1 notes when each case's `dispatched` event arrives, and the departments act on what they
were sent: every case dispatched to a department (not handled on the spot) is accepted (签收) through
`POST /v1/cases/{id}/actions`, so the router handles department actions beside new incidents.

Latency is from the 202 to the `dispatched` event (both clocks in this process); achieved rate is
dispatched cases per second of the run. One run per offered load, then a PNG of latency against
offered load (matplotlib, Agg). With `profile`, py-spy samples intake, router and sla during the
highest load (raw collapsed stacks, one file per service)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.data import DEPT_KEY, item_codes, request_for, synthetic
from bench.http_client import Connections
from bench.profile import hottest, sampler, stop_sampler
from deploy.local.processes import ServiceSet, suite_ports
from deploy.local.stack import Stack
from schemas.topics import CASE_EVENTS

DRAIN_SECONDS = 30.0
CONNECTIONS = 256  # keep-alive connections to intake for the reports; the only cap on open requests
DEPARTMENT_CONNECTIONS = 32
FAILED = (OSError, asyncio.IncompleteReadError, ValueError)  # a connection that broke, an answer not HTTP
ON_THE_SPOT = 0.2  # share of grid reports handled on the spot (自行处置)
SERVICES = ("intake", "router", "sla")


def _ports() -> dict[str, int]:
    return suite_ports("e2e", SERVICES)


class Arrivals:
    """Reads case.events.v1 from its end: when each case was first dispatched, and to whom (the
    departments' side of the mix accepts what they were sent)."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                         isolation_level="read_committed")
        self.dispatched: dict[str, float] = {}
        # case id → (router's decision `at`, the record's Kafka timestamp, arrival here), wall clock seconds
        self.hops: dict[str, tuple[float, float, float]] = {}
        self.other: dict[str, str] = {}  # case id → first non-created kind when it was not a dispatch
        self.accepted: set[str] = set()
        self.to_accept: asyncio.Queue[tuple[str, str]] = asyncio.Queue()  # (case id, owner)
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
            now, wall = time.perf_counter(), time.time()
            for records in batch.values():
                for r in records:
                    self._note(r.key, dict(r.headers).get("ce_type", b"").decode(), r.value, now,
                               (r.timestamp / 1000, wall))

    def _note(self, key: bytes | None, kind: str, value: bytes | None, now: float,
              wall: tuple[float, float] = (0.0, 0.0)) -> None:
        case_id = (key or b"").decode()
        if kind.endswith(".dispatched.v1"):
            if case_id not in self.dispatched:
                self.dispatched[case_id] = now
                event = json.loads(value or b"{}")
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    self.hops[case_id] = (datetime.fromisoformat(event["at"]).timestamp(), *wall)
                owner = (event.get("assignment") or {})
                if not event.get("on_the_spot"):
                    self.to_accept.put_nowait((case_id, owner.get("owner_unit") or owner.get("owner") or "CENTER"))
        elif kind.endswith(".accepted.v1"):
            self.accepted.add(case_id)
        elif not kind.endswith(".created.v1"):
            self.other.setdefault(case_id, kind)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()


async def departments(client: Connections, arrivals: Arrivals, mine: set[str],
                      statuses: Counter[str]) -> None:
    """Accept (签收) each of the run's dispatched cases as its owner, as the department gateway would."""
    async def accept(case_id: str, owner: str) -> None:
        body = {"action_id": uuid.uuid4().hex, "kind": "accept", "actor": owner,
                "taken_at": datetime.now(UTC).isoformat()}
        try:
            resp = await client.post(f"/v1/cases/{case_id}/actions", body, DEPT_KEY)
            statuses[str(resp.status)] += 1
        except FAILED as exc:
            statuses[type(exc).__name__] += 1

    tasks: set[asyncio.Task[None]] = set()
    while True:
        case_id, owner = await arrivals.to_accept.get()
        if case_id in mine:
            task = asyncio.create_task(accept(case_id, owner))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


async def offered(client: Connections, rate: float, seconds: float, tag: str,
                  arrivals: Arrivals, mine: set[str]) -> dict[str, Any]:
    """Post `rate` reports a second for `seconds` (open loop: a slow answer does not slow the offer)."""
    pool = synthetic(2000, seed=3000)
    codes, rng = item_codes(), random.Random(tag)
    tokens: dict[str, str] = {}
    accepted: dict[str, float] = {}
    accepted_wall: dict[str, float] = {}
    statuses: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    answered_ms: list[float] = []  # from the report's scheduled time to its answer (queueing included)
    began = time.perf_counter()

    async def one(i: int) -> None:
        inc = pool[i % len(pool)]
        path, body, headers = request_for(inc, f"E2E-{tag}-{i:07d}", codes, rng.random() < ON_THE_SPOT, tokens)
        channels[inc.channel] += 1
        try:
            resp = await client.post(path, body, headers)
        except FAILED as exc:
            statuses[type(exc).__name__] += 1
            return
        answered_ms.append((time.perf_counter() - began - i / rate) * 1000)
        statuses[str(resp.status)] += 1
        if resp.status == 202:
            answer = resp.json()
            assert isinstance(answer, dict)
            case_id = "C-" + answer["incident_id"]
            accepted[case_id] = time.perf_counter()
            accepted_wall[case_id] = time.time()
            mine.add(case_id)

    n = int(rate * seconds)
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
    mine_lat = {c: arrivals.dispatched[c] - t for c, t in accepted.items() if c in arrivals.dispatched}
    last = max((arrivals.dispatched[c] for c in mine_lat), default=began)
    lat = sorted(max(0.0, v) * 1000 for v in mine_lat.values())

    def pct(q: float, values: list[float] = lat) -> float | None:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None
    answered_ms.sort()
    # per hop (wall clocks of this machine): 202 → the router's decision (intake's produce, the router's
    # fetch and poll, the decision), decision → the relay's produce (the router's transaction commit, the
    # relay's wake-up and SELECT), produce → seen here (broker, this consumer's fetch)
    hops = [arrivals.hops[c] for c in mine_lat if c in arrivals.hops]
    spans = {"answer_to_decision": sorted((h[0] - accepted_wall[c]) * 1000 for c, h in
                                          ((c, arrivals.hops[c]) for c in mine_lat if c in arrivals.hops)),
             "decision_to_produce": sorted((h[1] - h[0]) * 1000 for h in hops),
             "produce_to_seen": sorted((h[2] - h[1]) * 1000 for h in hops)}

    return {"offered_per_second": rate, "answered_per_second": round(n / sent, 1), "accepted": len(accepted),
            "channels": dict(channels), "dispatched": len(mine_lat),
            "not_dispatched": dict(Counter(arrivals.other.get(c, "not yet").rsplit(".", 2)[-2]
                                           for c in accepted if c not in arrivals.dispatched)),
            "dispatched_per_second": round(len(mine_lat) / (last - began), 1) if mine_lat else 0.0,
            "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                           "mean": round(statistics.fmean(lat), 1) if lat else None},
            "answer_ms": {"p50": pct(0.50, answered_ms), "p99": pct(0.99, answered_ms)},
            "hops_ms": {name: {"p50": pct(0.50, v), "p99": pct(0.99, v)} for name, v in spans.items()},
            "statuses": dict(statuses)}


async def run(stack: Stack, city_dir: Path, logs: Path, loads: tuple[float, ...], seconds: float,
              plot: Path, profile: Path | None = None) -> dict[str, Any]:
    p = _ports()
    env = {**stack.env(), "LOG_LEVEL": "WARNING", "ROUTER_CITY_DIR": str(city_dir),
           "INTAKE_RATE_PER_SECOND": "1e9", "INTAKE_RATE_BURST": "1000000000"}
    services = ServiceSet(env=env, logs=logs / "e2e")
    arrivals = Arrivals(stack.bootstrap)
    runs = []
    mine: set[str] = set()
    actions: Counter[str] = Counter()
    profiles: dict[str, Any] = {}
    try:
        services.start(p)
        await asyncio.to_thread(services.wait_ready, p)
        await arrivals.start()
        client = Connections("127.0.0.1", p["intake"], CONNECTIONS)
        acting_client = Connections("127.0.0.1", p["intake"], DEPARTMENT_CONNECTIONS)
        try:
            acting = asyncio.create_task(departments(acting_client, arrivals, mine, actions))
            tag = uuid.uuid4().hex[:6].upper()
            try:
                await offered(client, 50, 2, f"{tag}W", arrivals, mine)  # warm-up
                for n, rate in enumerate(loads):
                    spies = {}
                    if profile is not None and rate == max(loads):
                        spies = {name: (sampler(_profile_file(profile, name), services.procs[name].pid),
                                        _profile_file(profile, name)) for name in SERVICES}
                    try:
                        runs.append(await offered(client, rate, seconds, f"{tag}{n}", arrivals, mine))
                    finally:
                        for name, (spy, out) in spies.items():
                            stop_sampler(spy)
                            if out.exists():
                                profiles[name] = {"file": str(out), **hottest(out, top=12)}
            finally:
                acting.cancel()
                await asyncio.gather(acting, return_exceptions=True)
        finally:
            await client.close()
            await acting_client.close()
    finally:
        await arrivals.stop()
        services.stop()
    _plot(runs, plot)
    at_500 = next((r for r in runs if r["offered_per_second"] == 500), None)
    best = max(runs, key=lambda r: r["dispatched_per_second"])
    return {"runs": runs, "at_500_per_second": at_500, "sustained_dispatched_per_second":
            best["dispatched_per_second"], "plot": str(plot), "seconds_per_load": seconds,
            "department_actions": {"posted": dict(actions), "accepted_events": len(arrivals.accepted & mine)},
            **({"profile_at_highest_load": profiles} if profiles else {})}


def _profile_file(profile: Path, service: str) -> Path:
    return profile.with_name(f"profile-e2e-{service}.txt")


def _plot(runs: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["offered_per_second"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for q in ("p50", "p95", "p99"):
        left.plot(x, [r["latency_ms"][q] or float("nan") for r in runs], marker="o", label=q)
    left.set(xlabel="offered load (reports/s: hotline, grid, WeChat)", ylabel="202 → case.dispatched (ms)",
             yscale="log", title="latency against offered load")
    left.legend()
    right.plot(x, [r["dispatched_per_second"] for r in runs], marker="o", label="dispatched/s")
    right.plot(x, [r["answered_per_second"] for r in runs], marker="s", label="answered/s (intake)")
    right.plot(x, x, linestyle=":", color="grey", label="offered")
    right.set(xlabel="offered load (reports/s)", ylabel="per second", title="achieved rate")
    right.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
