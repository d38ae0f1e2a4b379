"""kill -9 the router at random moments while it routes a stream of incidents, then make it kill itself
in the middle of its poll batches (inside the batch's open transaction, after the transaction committed
but before the offsets did, after the outbox relay published but before it marked the rows sent); after
restarts the whole case.events.v1 log is a consistent ledger: every incident has exactly one case, no
transition is lost or doubled, per-case sequence numbers are gapless.

Part of the fault suite (tests/chaos, `make test-chaos`): it owns the chaos stack."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local import stack as local_stack
from deploy.local.processes import ServiceSet, suite_ports
from runtime.kafka import make_producer, publish
from schemas.cloudevents import Outgoing, encode
from schemas.common import Channel, GeoPoint
from schemas.incident import IncidentReported, Location, Reporter
from schemas.topics import CASE_EVENTS, INCIDENT_REPORTED, INTAKE_HOTLINE
from simcity.generate import generate_city
from simcity.incidents import generate_incidents
from tests.integration.conftest import TopicReader

pytestmark = pytest.mark.integration
INCIDENTS = 400
ROUTER_PORT = suite_ports("router-crash", ("router",))["router"]
KILLS = 5
SELF_KILL_STAGES = ("in_transaction", "after_db_commit", "after_publish")  # runtime.chaos


def _incidents(seed: int) -> list[Outgoing]:
    city = generate_city()
    records = []
    for i, inc in enumerate(generate_incidents(city, seed, INCIDENTS, datetime.now(UTC))):
        iid = f"HL-CHAOS{seed:04d}{i:05d}"
        point = GeoPoint(lon=inc.lon, lat=inc.lat) if inc.lon is not None and inc.lat is not None else None
        event = IncidentReported(
            incident_id=iid, channel=Channel.HOTLINE, source_id=iid, reporter=Reporter(kind="citizen"),
            text=inc.text, location=Location(point=point, address=inc.address), reported_at=inc.reported_at,
            received_at=datetime.now(UTC),
        )
        records.append(encode(INTAKE_HOTLINE, iid, event, type=INCIDENT_REPORTED, source="/test/chaos",
                              subject=iid, event_id=iid))
    return records


async def test_router_survives_kill_9_without_losing_or_doubling_a_case_or_transition(
    chaos_stack: local_stack.Stack, city_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(4242)
    records = _incidents(rng.randrange(10_000))
    resent = rng.sample(records, INCIDENTS // 10)  # at-least-once upstream: some arrive twice
    burst = _incidents(rng.randrange(10_000, 20_000))  # one burst: the router polls it in large batches
    services = ServiceSet(env={**chaos_stack.env(), "ROUTER_CITY_DIR": str(city_dir), "LOG_LEVEL": "WARNING"},
                          logs=tmp_path / "logs")
    producer = make_producer(chaos_stack.bootstrap, client_id="chaos-intake")
    await producer.start()
    try:
        services.start({"router": ROUTER_PORT})
        await asyncio.to_thread(services.wait_ready, {"router": ROUTER_PORT})
        feeder = asyncio.create_task(_feed(producer, [*records, *resent], rng))
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            services.kill("router", signal.SIGKILL)
            services.start({"router": ROUTER_PORT})
            await asyncio.to_thread(services.wait_ready, {"router": ROUTER_PORT})
        await feeder
        await _until_all_routed(chaos_stack.database_url, INCIDENTS)
        services.kill("router", signal.SIGKILL)
        await publish(producer, [*burst, *rng.sample(burst, INCIDENTS // 10)])
        for stage in SELF_KILL_STAGES:  # the first batch (of at least two records) reaching `stage` dies
            services.env.update(GRIDLINE_CHAOS_KILL=stage, GRIDLINE_CHAOS_KILL_P="1")
            services.start({"router": ROUTER_PORT})
            assert await asyncio.to_thread(services.procs["router"].wait, 180) == -signal.SIGKILL, stage
        del services.env["GRIDLINE_CHAOS_KILL"]
        services.start({"router": ROUTER_PORT})
        await _until_all_routed(chaos_stack.database_url, 2 * INCIDENTS)
    finally:
        services.stop()
        await producer.stop()

    events = await TopicReader(chaos_stack.bootstrap).collect(CASE_EVENTS, lambda e: True, expect=10**9, timeout=15)
    by_id = {e.id: json.loads(e.data) for e in events}  # consumers de-duplicate on ce_id
    per_case: dict[str, dict[int, str]] = defaultdict(dict)
    for ce_id, ev in by_id.items():
        first = per_case[ev["case_id"]].setdefault(ev["seq"], ce_id)
        assert first == ce_id, f"two different events for {ev['case_id']}#{ev['seq']}"
    log = (tmp_path / "logs" / "router.log").read_text()
    assert all(f'"stage": "{stage}"' in log for stage in SELF_KILL_STAGES)  # runtime.chaos logged each kill
    expected = {f"C-{json.loads(r.value)['incident_id']}" for r in [*records, *burst]}
    assert set(per_case) == expected  # none lost, none invented
    for case_id, seqs in per_case.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gap in {case_id}"
    created = Counter(ev["case_id"] for ev in by_id.values() if ev["kind"] == "created")
    assert set(created.values()) == {1}
    conn = await asyncpg.connect(chaos_stack.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM router.cases") == 2 * INCIDENTS
        assert await conn.fetchval("SELECT count(*) FROM router.outbox WHERE sent_at IS NULL") == 0
    finally:
        await conn.close()


async def _feed(producer: AIOKafkaProducer, records: list[Outgoing], rng: random.Random) -> None:
    for start in range(0, len(records), 20):
        await publish(producer, records[start:start + 20])
        await asyncio.sleep(rng.uniform(0.01, 0.1))


async def _until_all_routed(url: str, n: int, timeout: float = 120) -> None:
    conn = await asyncpg.connect(url)
    try:
        for _ in range(int(timeout * 4)):
            cases = await conn.fetchval("SELECT count(*) FROM router.cases")
            pending = await conn.fetchval("SELECT count(*) FROM router.outbox WHERE sent_at IS NULL")
            if cases >= n and pending == 0:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"only {cases} of {n} incidents routed")
    finally:
        await conn.close()

