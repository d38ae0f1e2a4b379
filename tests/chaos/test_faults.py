"""Every fault, under a steady stream of the demo's requests (hotline, grid app, WeChat mini-program)
through intake's HTTP API:

0. a graceful stop (SIGTERM, as in a rolling update) of each service in turn: it exits 0, having
   finished or handed back its in-flight work (the ledger below shows nothing lost or doubled);
1. kill -9 of each service in turn (the test restarts only the killed process, as Kubernetes would);
2. SIGKILL of the broker, then its restart (the services are not restarted: they recover by themselves);
3. a crash of PostgreSQL (server and backends SIGKILLed), then its restart with crash recovery.

Then the whole ledger is checked: every acknowledged incident is exactly one case; every case event
exists once per (case, seq), gapless, on the topic; sla's deadlines and scoring's facts equal those of
a fault-free replay of the same topics (neither lost nor doubled); every consumer group has lag 0;
every service is ready by itself. Poison records written straight to each input topic go to its
.dlq with a reason (not their content) and the partition goes on. No raw ID number, bank card or
phone number typed by a caller appears on any topic or in any log line.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.local import kafka, postgres
from deploy.local import stack as local_stack
from deploy.local.demo import request_for
from deploy.local.processes import ServiceSet, console_urls, suite_ports
from deploy.local.run import CODES
from runtime.kafka import make_producer
from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, Deadlines
from schemas.cloudevents import encode
from schemas.common import Level
from schemas.topics import CASE_EVENTS, CATALOGUE, case_type, dlq
from simcity.generate import generate_city
from simcity.incidents import generate_incidents
from tests.chaos.ledger import CaseLog, fetch, read_topic, until_no_lag

pytestmark = pytest.mark.integration
GROUPS = {"intake": "gridline-intake-open311", "router": "gridline-router", "sla": "gridline-sla",
          "scoring": "gridline-scoring", "console": "gridline-console"}
# What callers type (and what must never leave intake unmasked)
ID_NUMBER, BANK_CARD, PHONE = "320602198703151234", "6222020200112233446", "13912345678"
POISON_SECRET = "身份证110105194912310028"


Request = tuple[str, dict[str, Any], dict[str, str]]  # path, body, headers


@dataclass
class Stream:
    """The demo's requests (hotline tickets, grid workers' reports, mini-program submissions) at a steady
    pace; each is retried (same natural id) until intake answers 2xx, as the sending systems do.
    `acknowledged`: natural id → incident id of its first 2xx."""

    url: str
    requests: list[Request]
    acknowledged: dict[str, str] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    sent: int = 0

    async def run(self, stop: asyncio.Event, workers: int = 2, pause: float = 0.1) -> None:
        queue = iter(self.requests)
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            async def worker() -> None:
                for request in queue:
                    if stop.is_set():
                        return
                    await self._until_accepted(client, request)
                    self.sent += 1
                    await asyncio.sleep(pause)

            await asyncio.gather(*(worker() for _ in range(workers)))

    async def _until_accepted(self, client: httpx.AsyncClient, request: Request) -> None:
        path, body, headers = request
        natural_id = str(body.get("ticket_no") or body.get("report_id") or body.get("request_id"))
        for _ in range(600):
            try:
                answer = await client.post(path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                self.refusals[type(exc).__name__] += 1
                await asyncio.sleep(0.5)
                continue
            if answer.status_code == 202:
                self.acknowledged.setdefault(natural_id, answer.json()["incident_id"])
                return
            if answer.status_code == 503 and int(answer.headers.get("Retry-After", "0")) > 0:
                self.refusals["503"] += 1
                await asyncio.sleep(0.5)
                continue
            self.errors.append(f"{path} {answer.status_code} {answer.text[:200]}")
            return
        self.errors.append(f"never accepted: {natural_id}")


def demo_requests(n: int) -> list[Request]:
    """What `make run` feeds, with personal data typed into every text and address."""
    codes = yaml.safe_load(CODES.read_text()) if CODES.exists() else {}
    typed = f"。我的身份证{ID_NUMBER}，退款请打到卡号{BANK_CARD}，电话{PHONE}"
    out = []
    for inc in generate_incidents(generate_city(), 7, n, datetime.now(UTC)):
        path, body, headers = request_for(inc, codes)
        body["text"] = (body["text"] + typed)[:4000]
        if body.get("address"):
            body["address"] += f"（联系{PHONE}）"
        if path == "/v1/hotline/tickets":
            body["caller_phone"] = PHONE
        out.append((path, body, headers))
    return out


class Platform:
    """The services as processes on the chaos stack; the test plays their supervisor."""

    def __init__(self, stack: local_stack.Stack, city_dir: Path, logs: Path) -> None:
        self.stack = stack
        self.ports = suite_ports("chaos")
        env = {**stack.env(), "ROUTER_CITY_DIR": str(city_dir), "CONSOLE_CITY_DIR": str(city_dir),
               "INTAKE_RATE_PER_SECOND": "10000", "INTAKE_RATE_BURST": "10000", "SLA_TIMER_INTERVAL_SECONDS": "1",
               "SCORING_PUBLISH_INTERVAL_SECONDS": "1", **console_urls(self.ports)}
        self.services = ServiceSet(env=env, logs=logs)
        self.logs = logs

    async def start(self, names: dict[str, int] | None = None) -> None:
        names = names or self.ports
        self.services.start(names)
        await self.ready()

    async def ready(self) -> None:
        """Every service answers /readyz 200 — by itself (nobody restarts anything here)."""
        await asyncio.to_thread(self.services.wait_ready, self.ports, 240)

    async def kill_and_restart(self, name: str) -> None:
        self.services.kill(name, signal.SIGKILL)
        await self.start({name: self.ports[name]})

    async def stop_gracefully_and_restart(self, name: str) -> None:
        """SIGTERM (a rolling update): the service finishes or hands back what it holds, and shuts down
        completely (uvicorn then exits with the signal it got)."""
        proc = self.services.procs[name]
        os.killpg(proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 60) in (0, -signal.SIGTERM), f"{name} was killed"
        run = (self.logs / f"{name}.log").read_text(errors="replace").split(f"Started server process [{proc.pid}]")[-1]
        assert "Application shutdown complete." in run and f"Finished server process [{proc.pid}]" in run, name
        await self.start({name: self.ports[name]})

    def stop(self) -> None:
        self.services.stop()


async def test_the_platform_survives_every_fault_without_losing_or_doubling_anything(
    chaos_stack: local_stack.Stack, city_dir: Path, tmp_path: Path
) -> None:
    stack, platform = chaos_stack, Platform(chaos_stack, city_dir, tmp_path / "logs")
    assert stack.postgres is not None
    stream = Stream(f"http://127.0.0.1:{platform.ports['intake']}", demo_requests(3000))
    stop = asyncio.Event()
    try:
        await platform.start()
        feeding = asyncio.create_task(stream.run(stop))

        async def progress(more: int) -> None:  # faults strike mid-stream, mid-batch
            target = stream.sent + more
            for _ in range(1200):
                if stream.sent >= target or feeding.done():
                    return
                await asyncio.sleep(0.1)

        for name in platform.ports:
            await progress(30)
            await platform.stop_gracefully_and_restart(name)
        for name in platform.ports:
            await progress(40)
            await platform.kill_and_restart(name)
        await progress(40)
        await asyncio.to_thread(kafka.crash, stack.kafka)
        await asyncio.to_thread(kafka.start, stack.kafka)
        await platform.ready()
        await progress(40)
        await asyncio.to_thread(postgres.crash, stack.postgres)
        await asyncio.to_thread(postgres.start, stack.postgres)
        await platform.ready()
        await progress(40)
        stop.set()
        await feeding
        assert not stream.errors, stream.errors[:5]  # no 500, no 4xx for a valid ticket
        assert len(stream.acknowledged) == stream.sent > 200

        groups = [GROUPS[n] for n in platform.ports if n in GROUPS]
        consumed = await until_no_lag(stack.bootstrap, groups)
        await check_ledger(stack, stream)
        await check_against_a_replay(stack, platform)
        await check_no_personal_data_left_intake(stack, platform)
        await check_poison_goes_to_the_dlq(stack, platform, consumed, groups)
        await platform.ready()
    finally:
        stop.set()
        platform.stop()
    print(f"\nchaos: {stream.sent} requests, refused and retried: {dict(stream.refusals)}")


async def check_ledger(stack: local_stack.Stack, stream: Stream) -> None:
    url = stack.database_url
    acknowledged = set(stream.acknowledged.values())
    cases = Counter(r[0] for r in await fetch(url, "SELECT incident_id FROM router.cases"))
    assert {i for i in acknowledged if cases[i] != 1} == set(), "an acknowledged incident is not exactly one case"
    assert await fetch(url, "SELECT count(*) FROM router.outbox WHERE sent_at IS NULL") == [(0,)]
    log = CaseLog.of(await read_topic(stack.bootstrap, CASE_EVENTS))
    stored = dict(await fetch(url, "SELECT case_id, max(seq) FROM router.case_events GROUP BY case_id"))
    for case_id, seqs in log.by_case.items():
        assert all(len(ids) == 1 for ids in seqs.values()), f"two different events for one seq of {case_id}"
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gap in {case_id}"
        assert max(seqs) == stored[case_id], f"{case_id}: topic and router disagree"
    assert set(stored) == set(log.by_case)
    applied = dict(await fetch(url, "SELECT case_id, last_seq FROM sla.sla_cases"))
    assert {c: s for c, s in stored.items() if applied.get(c, 0) != s} == {}, "sla missed a case event"
    print(f"\nchaos: {len(log.by_case)} cases; case events repeated under the same ce_id: {log.repeated}")


DEADLINES = ("SELECT case_id, gen, rev, stage, limit_text, started_at, allowed_s, due_at, owner "
             "FROM {schema}.deadlines ORDER BY case_id, gen")
FACTS = ("SELECT event_id, ordinal, case_id, period, fact, tag, value, department, worker "
         "FROM {schema}.facts ORDER BY event_id, ordinal")


async def check_against_a_replay(stack: local_stack.Stack, platform: Platform) -> None:
    """sla and scoring again, fault-free, on new groups from the start of the same topics: the faults
    left the same deadlines and score facts as a calm run would (none lost, none doubled)."""
    replay = ServiceSet(env={**platform.services.env, "SLA_SCHEMA_NAME": "sla_replay",
                             "SLA_GROUP_ID": "gridline-sla-replay", "SLA_TIMER_ENABLED": "false",
                             "SCORING_SCHEMA_NAME": "scoring_replay", "SCORING_GROUP_ID": "gridline-scoring-replay"},
                        logs=platform.logs / "replay")
    ports = {"sla": platform.ports["sla"] + 50, "scoring": platform.ports["scoring"] + 50}
    try:
        replay.start(ports)
        await asyncio.to_thread(replay.wait_ready, ports, 240)
        await until_no_lag(stack.bootstrap, ["gridline-sla-replay", "gridline-scoring-replay"])
    finally:
        replay.stop()
    url = stack.database_url
    assert await fetch(url, DEADLINES.format(schema="sla")) == await fetch(url, DEADLINES.format(schema="sla_replay"))
    facts = await fetch(url, FACTS.format(schema="scoring"))
    assert facts and facts == await fetch(url, FACTS.format(schema="scoring_replay"))


async def check_no_personal_data_left_intake(stack: local_stack.Stack, platform: Platform) -> None:
    secrets = (ID_NUMBER, BANK_CARD, PHONE)
    for topic in CATALOGUE:
        for record in await read_topic(stack.bootstrap, topic):
            text = (record.value or b"").decode(errors="replace") + repr(record.headers)
            assert not [s for s in secrets if s in text], f"{topic}@{record.offset} carries personal data"
    for log in platform.logs.rglob("*.log"):
        content = log.read_text(errors="replace")
        assert not [s for s in secrets if s in content], f"{log.name} carries personal data"


def poison(topic: str, key: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Records that can never succeed: not a CloudEvent, and a CloudEvent whose payload is wrong."""
    envelope = [("ce_specversion", b"1.0"), ("ce_id", f"POISON-{key}".encode()), ("ce_source", b"/chaos"),
                ("ce_type", b"gov.gridline.poison.v1"), ("ce_time", datetime.now(UTC).isoformat().encode()),
                ("content-type", b"application/json")]
    wrong = json.dumps({"incident_id": 1, "case_id": 2, "text": POISON_SECRET}, ensure_ascii=False).encode()
    return [(b"\x00\xffnot json at all " + POISON_SECRET.encode(), []), (wrong, envelope)]


def case_event(case_id: str) -> Any:
    event = CaseEvent(event_id=f"{case_id}-1", case_id=case_id, kind=CaseEventKind.DISPATCHED,
                      state=CaseState.ACCEPTED, seq=1, at=datetime.now(UTC), actor="router",
                      assignment=Assignment(owner="CG", level=Level.GRID, street_id="ST-1"),
                      deadlines=Deadlines(accept_within="2h", handle_within="1d", clock="natural",
                                          escalation=(Level.COMMUNITY,)))
    return encode(CASE_EVENTS, case_id, event, type=case_type(event.kind.value), source="/chaos",
                  subject=case_id, event_id=event.event_id)


async def check_poison_goes_to_the_dlq(
    stack: local_stack.Stack, platform: Platform, consumed: dict[str, set[str]], groups: list[str]
) -> None:
    topics = sorted(set().union(*consumed.values()))
    # keyed like an Open311 case: intake's status follower reads only those of the case topics (by key,
    # services/intake/case_status.py), so with this key every consumer of every topic meets the poison
    key = f"C-OS-P{uuid.uuid4().hex[:8]}"
    producer = make_producer(stack.bootstrap, client_id="chaos-poisoner")
    await producer.start()
    try:
        for topic in topics:
            for value, headers in poison(topic, key):
                await (await producer.send(topic, value=value, key=key.encode(), headers=headers))
        after = case_event(f"C-POISON-{key}")  # the same partition goes on past the poison
        await (await producer.send(CASE_EVENTS, value=after.value, key=key.encode(), headers=after.headers))
    finally:
        await producer.stop()
    await until_no_lag(stack.bootstrap, groups)
    for topic in topics:
        letters = [r for r in await read_topic(stack.bootstrap, dlq(topic)) if r.key == key.encode()]
        services = {name for name, group in GROUPS.items() if topic in consumed.get(group, set())}
        origins = {json.loads(dict(r.headers)["dlq_origin"])["service"] for r in letters}
        assert origins == services and len(letters) == 2 * len(services), (topic, origins)
        for r in letters:
            reason = dict(r.headers)["dlq_reason"].decode()
            assert reason and POISON_SECRET not in reason and "110105194912310028" not in reason
    applied = await fetch(stack.database_url, f"SELECT last_seq FROM sla.sla_cases WHERE case_id = 'C-POISON-{key}'")
    assert applied == [(1,)]
    for log in platform.logs.rglob("*.log"):
        assert "110105194912310028" not in log.read_text(errors="replace"), f"{log.name} logged a poison's data"
