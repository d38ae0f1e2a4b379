"""The demo stream for `make run`: synthetic incidents into intake, simulated departments acting on
their cases, and a live summary of cases per state and level read from case.events.v1."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from schemas.cloudevents import decode
from schemas.topics import CASE_EVENTS, SCORING, SLA_EVENTS
from services.intake.domain.credentials import issue_worker_token
from simcity.generate import generate_city
from simcity.incidents import SyntheticIncident, generate_incidents

HOTLINE = {"X-Api-Key": "dev-hotline-key"}
DEPT = {"X-Api-Key": "dev-dept-key"}
MINI = {"X-Api-Key": "dev-wechat-mini-key"}
WORKER_SECRET = "dev-worker-token-secret"


RUN = uuid.uuid4().hex[:6]  # natural ids differ per demo run: the run stack keeps earlier runs' ledger


def request_for(inc: SyntheticIncident, codes: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, str]]:
    point = {"lon": inc.lon, "lat": inc.lat} if inc.lon is not None and inc.lat is not None else None
    at = inc.reported_at.isoformat()
    channel = str(getattr(inc.channel, "value", inc.channel))
    if channel == "hotline":
        return "/v1/hotline/tickets", {
            "ticket_no": f"{inc.natural_id}-{RUN}", "call_time": at, "caller_name": inc.reporter_name,
            "caller_phone": "13800000000", "appeal_type": (inc.appeal_type or "投诉"),
            "urgency": str(getattr(inc.urgency, "value", inc.urgency)),
            "text": inc.text, "address": inc.address, "point": point, "operator_id": "OP-DEMO",
            "category_hint": inc.category_hint,
        }, HOTLINE
    if channel == "grid":
        worker = inc.worker_id or "GW0001"
        token = {"Authorization": f"Bearer {issue_worker_token(WORKER_SECRET, worker)}"}
        on_spot = random.random() < 0.2
        return "/v1/grid/reports", {
            "report_id": f"{inc.natural_id}-{RUN}", "worker_id": worker, "grid_id": inc.grid_id or inc.true_grid_id,
            "category_code": codes.get(inc.true_kind, "A01.001"), "point": point or {"lon": 120.9, "lat": 32.0},
            "text": inc.text, "handled_on_spot": on_spot, "reported_at": at,
            "evidence_urls": ["https://img.example.org/after.jpg"] if on_spot else [],
            "photo_urls": ["https://img.example.org/before.jpg"],
        }, token
    location = {"lon": inc.lon, "lat": inc.lat, "address": inc.address} if point else None
    return "/v1/wechat/tongjiang/submissions", {
        "request_id": f"{inc.natural_id}-{RUN}", "openid": "oDEMO" + uuid.uuid4().hex[:20], "text": inc.text,
        "location": location, "submitted_at": at,
    }, MINI


async def feed(intake: str, rate: float, stats: Counter[str], codes: dict[str, str]) -> None:
    city = generate_city()
    start = datetime.now(UTC) - timedelta(hours=1)
    seed = random.randrange(1_000_000)
    async with httpx.AsyncClient(base_url=intake, timeout=15) as client:
        for inc in generate_incidents(city, seed, 100_000, start):
            path, body, headers = request_for(inc, codes)
            resp = await client.post(path, json=body, headers=headers)
            stats[f"intake {resp.status_code}"] += 1
            await asyncio.sleep(1 / rate)


class Departments:
    """Simulated departments, grid workers and the centre acting on dispatched cases."""

    def __init__(self, intake: str, rng: random.Random) -> None:
        self.client = httpx.AsyncClient(base_url=intake, timeout=15, headers=DEPT)
        self.rng = rng

    async def act(self, event: dict[str, Any]) -> None:
        kind, case_id = event["kind"], event["case_id"]
        owner = (event.get("assignment") or {}).get("owner_unit") or (event.get("assignment") or {}).get("owner")
        grid = (event.get("assignment") or {}).get("grid_id")
        await asyncio.sleep(self.rng.uniform(1, 6))
        if kind in ("dispatched", "escalated", "reopened") and not event.get("on_the_spot"):
            if self.rng.random() < 0.08 and kind == "dispatched":
                await self._post(case_id, "return", owner, reason="不属于本单位职责范围")
            else:
                await self._post(case_id, "accept", owner)
        elif kind == "accepted" and not event.get("on_the_spot"):
            await self._post(case_id, "resolve", owner, evidence_urls=["https://img.example.org/done.jpg"])
        elif kind == "resolved" and not event.get("on_the_spot"):
            await self._post(case_id, "verify", grid or "CENTER", passed=self.rng.random() < 0.9)
        elif kind == "verified" and event.get("channel") != "grid":  # grid reports close on verification
            await self._post(case_id, "rate", "CENTER:回访", satisfaction=self.rng.choice([5, 5, 4, 4, 3, 2]))
        elif kind in ("queued_manual", "arbitration_requested") and self.rng.random() < 0.5:
            # the simulated centre takes half of its queues (a while later); the rest wait for the console
            await asyncio.sleep(self.rng.uniform(60, 180))
            action = "dispatch" if kind == "queued_manual" else "arbitrate"
            await self._post(case_id, action, "CENTER:值班长", target=self.rng.choice(["URBAN_MGMT", "HOUSING"]))

    async def _post(self, case_id: str, kind: str, actor: str | None, **fields: Any) -> None:
        body = {"action_id": uuid.uuid4().hex, "kind": kind, "actor": actor or "CENTER",
                "taken_at": datetime.now(UTC).isoformat(), **fields}
        await self.client.post(f"/v1/cases/{case_id}/actions", json=body)


async def watch(bootstrap: str, summary: Summary, departments: Departments | None) -> None:
    consumer = AIOKafkaConsumer(CASE_EVENTS, SLA_EVENTS, SCORING, bootstrap_servers=bootstrap,
                                auto_offset_reset="latest",
                                group_id=f"demo-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    tasks: set[asyncio.Task[None]] = set()
    try:
        async for record in consumer:
            event = json.loads(decode(record.key, record.value, record.headers).data)
            if record.topic != CASE_EVENTS:
                summary.downstream[f"{record.topic.split('.')[0]}:{event.get('kind', 'card')}"] += 1
                continue
            summary.add(event)
            if departments is not None:
                task = asyncio.create_task(departments.act(event))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    finally:
        await consumer.stop()


class Summary:
    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.level: dict[str, str] = {}
        self.kinds: Counter[str] = Counter()
        self.downstream: Counter[str] = Counter()  # sla events by kind, score cards published

    def add(self, event: dict[str, Any]) -> None:
        self.state[event["case_id"]] = event["state"]
        if event.get("assignment"):
            self.level[event["case_id"]] = event["assignment"]["level"]
        self.kinds[event["kind"]] += 1

    def render(self, stats: Counter[str]) -> str:
        states = Counter(self.state.values())
        levels = Counter(self.level.values())
        fmt = lambda c: "  ".join(f"{k}={v}" for k, v in sorted(c.items()))  # noqa: E731
        return (f"[{datetime.now().strftime('%H:%M:%S')}] cases {len(self.state)} | by state: {fmt(states)}\n"
                f"           by level: {fmt(levels)} | intake: {fmt(stats)}\n"
                f"           events: {fmt(self.kinds)}\n"
                f"           sla/scoring: {fmt(self.downstream)}")
