"""Recovery after kill -9: every service runs as its own process on the bench stack; each in turn is
killed with SIGKILL and started again at once, and the clock runs from the kill until it *processes
again* — a probe that needs it is through: intake answers 202 to a new ticket; the router has a case
for an incident published right after the kill; sla has clocks and scoring facts for such a case.
Readiness (GET /readyz 200: database, broker, partitions, loops) is reported beside it."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.data import hotline_record, synthetic, ticket_body, to_incident
from deploy.local.processes import ServiceSet, suite_ports
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish

SERVICES = ("intake", "router", "sla", "scoring")
PROBE_TIMEOUT = 120.0


def ports() -> dict[str, int]:
    return suite_ports("recovery", SERVICES)


async def _until(check: Callable[[], Awaitable[bool]]) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < PROBE_TIMEOUT:
        try:
            if await check():
                return time.perf_counter()
        except (httpx.HTTPError, OSError):
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError("the service never processed its probe")


async def run(stack: Stack, city_dir: Path, logs: Path) -> dict[str, Any]:
    p = ports()
    env = {**stack.env(), "LOG_LEVEL": "WARNING", "ROUTER_CITY_DIR": str(city_dir),
           "INTAKE_RATE_PER_SECOND": "1e9", "INTAKE_RATE_BURST": "1000000000"}
    services = ServiceSet(env=env, logs=logs / "recovery")
    incidents = synthetic(40, seed=77)
    tag = uuid.uuid4().hex[:6].upper()
    producer = make_producer(stack.bootstrap, client_id="bench-recovery")
    await producer.start()
    conn = await asyncpg.connect(stack.database_url)
    results: dict[str, Any] = {}
    try:
        services.start(p)
        await asyncio.to_thread(services.wait_ready, p)
        async with httpx.AsyncClient(timeout=5) as client:
            for n, name in enumerate(SERVICES):
                probe_id = f"HL-REC-{tag}-{n}"

                async def ready(name: str = name) -> bool:
                    return (await client.get(f"http://127.0.0.1:{p[name]}/readyz")).status_code == 200

                async def processed(name: str = name, probe_id: str = probe_id, n: int = n) -> bool:
                    if name == "intake":
                        body = ticket_body(incidents[n], f"REC-{tag}-{n}")
                        resp = await client.post(f"http://127.0.0.1:{p[name]}/v1/hotline/tickets", json=body,
                                                 headers={"X-Api-Key": "dev-hotline-key"})
                        return resp.status_code == 202
                    table = {"router": "router.cases", "sla": "sla.sla_cases", "scoring": "scoring.cases"}[name]
                    return bool(await conn.fetchval(f"SELECT 1 FROM {table} WHERE case_id = $1", f"C-{probe_id}"))

                services.kill(name, signal.SIGKILL)
                killed = time.perf_counter()
                services.start({name: p[name]})
                if name != "intake":  # the work waiting for it arrives while it is down
                    await publish(producer, [hotline_record(to_incident(incidents[n], probe_id))])
                up = await _until(ready)
                done = await _until(processed)
                results[name] = {"ready_seconds": round(up - killed, 2), "processing_seconds": round(done - killed, 2)}
    finally:
        services.stop()
        await conn.close()
        await producer.stop()
    return results
