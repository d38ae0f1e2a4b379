"""Intake end to end on the real stack: 12345 tickets accepted per second, against raw Kafka produce.

The intake app runs in-process and is called over ASGI (no sockets, like the integration tests); its
rate limiter is opened up, since floods are not what is measured. The baseline produces the records
intake would have produced for the same tickets, with the same producer settings (acks=all,
idempotent), awaited per record by the same number of concurrent senders, and in batches of the same
size. Rounds take turns (raw, intake, raw batched, intake batch) with fresh ticket numbers each time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from bench.data import intake_record, synthetic, ticket_body
from bench.timing import Rate, Ratio
from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.cloudevents import Outgoing
from services.intake.app import create_app
from services.intake.settings import IntakeSettings

HOTLINE_KEY = {"X-Api-Key": "dev-hotline-key"}
BATCH_LIMIT = 500  # HotlineBatch.tickets max_length


@dataclass(frozen=True)
class IntakeSizes:
    singles: int = 1200  # tickets per round through POST /v1/hotline/tickets
    clients: int = 16  # concurrent callers (and concurrent raw senders)
    batches: int = 4  # calls per round to POST /v1/hotline/tickets:batch
    batch_size: int = BATCH_LIMIT
    rounds: int = 3
    raw_batch_passes: int = 5  # the batched baseline produces the round's records this many times
    warmup: int = 100


class Tickets:
    """Fresh ticket numbers for every use (the ledger would call a reused one a duplicate)."""

    def __init__(self, pool_size: int) -> None:
        self.pool = synthetic(pool_size, seed=2000)
        self.run = uuid.uuid4().hex[:6].upper()
        self.next = 0

    def take(self, n: int, tag: str) -> list[dict[str, Any]]:
        bodies = []
        for _ in range(n):
            inc = self.pool[self.next % len(self.pool)]
            bodies.append(ticket_body(inc, f"BENCH-{self.run}-{tag}-{self.next:07d}"))
            self.next += 1
        return bodies


async def _fan_out(items: Sequence[Any], clients: int, one: Callable[[Any], Awaitable[None]]) -> float:
    """Seconds for `clients` concurrent workers to handle every item, each awaiting its own."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await one(item)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - began


async def _post_singles(client: httpx.AsyncClient, bodies: list[dict[str, Any]], clients: int,
                        statuses: Counter[int]) -> float:
    async def one(body: dict[str, Any]) -> None:
        resp = await client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
        statuses[resp.status_code] += 1

    return await _fan_out(bodies, clients, one)


async def _post_batches(client: httpx.AsyncClient, bodies: list[dict[str, Any]], size: int,
                        statuses: Counter[int]) -> float:
    began = time.perf_counter()
    for start in range(0, len(bodies), size):
        resp = await client.post("/v1/hotline/tickets:batch", json={"tickets": bodies[start:start + size]},
                                 headers=HOTLINE_KEY, timeout=120)
        if resp.status_code != 207:
            statuses[resp.status_code] += len(bodies[start:start + size])
            continue
        for item in resp.json()["results"]:
            statuses[item["status"]] += 1
    return time.perf_counter() - began


async def _raw_singles(producer: AIOKafkaProducer, records: list[Outgoing], clients: int) -> float:
    async def one(record: Outgoing) -> None:
        await publish(producer, [record])

    return await _fan_out(records, clients, one)


async def _raw_batches(producer: AIOKafkaProducer, records: list[Outgoing], size: int, passes: int) -> float:
    """Seconds per pass; batched produce is so fast that one pass is over before the noise averages out."""
    began = time.perf_counter()
    for _ in range(passes):
        for start in range(0, len(records), size):
            await publish(producer, records[start:start + size])
    return (time.perf_counter() - began) / passes


def _accepted(statuses: Counter[int], n: int, what: str) -> None:
    if statuses[202] != n:
        raise RuntimeError(f"{what}: only {statuses[202]} of {n} accepted: {dict(statuses)}")


async def run(stack: Stack, sizes: IntakeSizes) -> tuple[list[Rate], list[Ratio], dict[str, Any]]:
    settings = IntakeSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                              log_level="WARNING", rate_per_second=1e9, rate_burst=10**9)
    tickets = Tickets(2000)
    app = create_app(settings)
    samples: dict[str, list[float]] = {"raw1": [], "http1": [], "rawb": [], "httpb": []}
    statuses: Counter[int] = Counter()
    producer = make_producer(stack.bootstrap, client_id="bench-raw")
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
                warm = tickets.take(sizes.warmup, "W")
                await _raw_singles(producer, [intake_record(b) for b in warm], sizes.clients)
                await _post_singles(client, tickets.take(sizes.warmup, "W"), sizes.clients, Counter())
                await _post_batches(client, tickets.take(sizes.warmup, "W"), sizes.batch_size, Counter())
                for round_no in range(sizes.rounds):
                    singles = tickets.take(sizes.singles, f"S{round_no}")
                    batched = tickets.take(sizes.batches * sizes.batch_size, f"B{round_no}")
                    raw_singles = [intake_record(b) for b in singles]
                    raw_batched = [intake_record(b) for b in batched]
                    samples["raw1"].append(len(singles) / await _raw_singles(producer, raw_singles, sizes.clients))
                    one: Counter[int] = Counter()
                    samples["http1"].append(len(singles) / await _post_singles(client, singles, sizes.clients, one))
                    _accepted(one, len(singles), "single tickets")
                    per_pass = await _raw_batches(producer, raw_batched, sizes.batch_size, sizes.raw_batch_passes)
                    samples["rawb"].append(len(batched) / per_pass)
                    many: Counter[int] = Counter()
                    samples["httpb"].append(len(batched) / await _post_batches(client, batched, sizes.batch_size, many))
                    _accepted(many, len(batched), "batched tickets")
                    statuses.update(one)
                    statuses.update(many)
    finally:
        await producer.stop()
    n1, nb = sizes.singles, sizes.batches * sizes.batch_size
    raw1 = Rate("raw produce, awaited per record", "records", tuple(samples["raw1"]), n1,
                f"{sizes.clients} concurrent senders, acks=all, idempotent (baseline)")
    http1 = Rate("intake POST /v1/hotline/tickets", "incidents", tuple(samples["http1"]), n1,
                 f"{sizes.clients} concurrent clients, 202 = durable")
    rawb = Rate(f"raw produce, batches of {sizes.batch_size}", "records", tuple(samples["rawb"]), nb,
                f"one sender, each batch awaited; {sizes.raw_batch_passes} passes (baseline)")
    httpb = Rate(f"intake POST …/tickets:batch ({sizes.batch_size}/call)", "incidents", tuple(samples["httpb"]), nb,
                 "one caller, calls in sequence")
    ratios = [
        Ratio("intake single / raw per-record", http1, raw1, "fraction of raw produce speed"),
        Ratio("intake batch / raw batched", httpb, rawb, "fraction of raw produce speed"),
    ]
    return [raw1, http1, rawb, httpb], ratios, {"statuses": {str(k): v for k, v in statuses.items()}}
