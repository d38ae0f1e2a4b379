"""Fixtures that run Gridline's services in-process against the session's real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from deploy.local.stack import Stack
from runtime.tracer_provider import ExportAwareTracerProvider
from schemas.cloudevents import Envelope, EnvelopeError, decode

pytestmark = pytest.mark.integration


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (clients, consumers) and talk to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """An in-memory exporter on the services' tracer provider while the block runs, taken off after it, so
    the tests after it run as the services do by default: building no spans (runtime/tracer_provider.py)."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, ExportAwareTracerProvider)  # a service's app configured it
    before = provider.exporting
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        yield exporter
    finally:
        provider.remove_span_processor(processor)
        processor.shutdown()
    assert provider.exporting == before


async def open_at_start(bootstrap: str, topic: str) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A group-less consumer assigned to every partition of `topic`, positioned at the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    partitions = consumer.partitions_for_topic(topic) or set()
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return consumer, tps


def readable(record: ConsumerRecord[bytes, bytes]) -> Envelope | None:
    """The record's event, or None for a record that is not a CloudEvent: the session's topics are shared,
    and a test of dead-lettering puts its poison on them (test_scoring_rebuild_workers on case.events.v1)."""
    try:
        return decode(record.key, record.value, record.headers)
    except EnvelopeError:
        return None


class TopicReader:
    """Reads a topic from the beginning (no group) and returns the records a test is looking for."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def collect(
        self, topic: str, match: Callable[[Envelope], bool], *, expect: int = 1, timeout: float = 30.0,
        settle: float = 0.0,
    ) -> list[Envelope]:
        """Wait for `expect` matching records; with `settle`, keep reading that long to catch extras."""
        consumer, _ = await open_at_start(self.bootstrap, topic)
        try:
            found: list[Envelope] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            settle_until: float | None = None
            while loop.time() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for r in records:
                        if r.value is None and not topic.endswith(".dlq"):
                            continue  # a tombstone on a compacted topic (another test's removed card) is no event
                        env = _raw(r) if topic.endswith(".dlq") else readable(r)
                        if env is not None and match(env):
                            found.append(env)
                if len(found) >= expect:
                    if settle <= 0:
                        break
                    settle_until = settle_until or loop.time() + settle
                    if loop.time() >= settle_until:
                        break
            return found
        finally:
            await consumer.stop()


def _raw(record: Any) -> Envelope:
    """Dead-letter records may not be CloudEvents at all: expose value and headers as they are."""
    headers = {k: v.decode(errors="replace") for k, v in record.headers}
    from datetime import UTC, datetime

    return Envelope(id=headers.get("ce_id", ""), source=headers.get("ce_source", ""),
                    type=headers.get("ce_type", ""), time=datetime.now(UTC), data=record.value or b"",
                    key=record.key.decode(errors="replace") if record.key else None, extensions=headers)


def own_stack(profile: str) -> Iterator[Stack]:
    """A whole stack for one test module (crash and browser tests): wiped at the start, stopped at the end."""
    import shutil

    from deploy.local import stack as local_stack

    s = local_stack.stack_for(profile)
    local_stack.down(s)
    shutil.rmtree(s.kafka.home / "data", ignore_errors=True)
    if s.postgres is not None:
        shutil.rmtree(s.postgres.pgdata, ignore_errors=True)
    yield local_stack.up(s)
    local_stack.down(s)


@pytest.fixture(scope="session")
def topics(stack: Stack) -> TopicReader:
    return TopicReader(stack.bootstrap)


@pytest.fixture
def uid() -> str:
    """A short unique id so tests never collide on natural ids in the shared topics."""
    return uuid.uuid4().hex[:10].upper()


@pytest_asyncio.fixture(loop_scope="session")
async def schema(stack: Stack, uid: str) -> AsyncIterator[str]:
    """A PostgreSQL schema of its own for one scoring test (an empty database for a replay), dropped after it."""
    name = f"scoring_t{uid.lower()}"
    yield name
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The synthetic city's files, as the router loads them."""
    from simcity.export import write_city
    from simcity.generate import generate_city

    directory = tmp_path_factory.mktemp("city")
    write_city(generate_city(), directory)
    return directory


CLOSED_LOOP_STREAM, CLOSED_LOOP_SEED = 300, 9  # test_closed_loop's demo-like stream (bench.data.synthetic)


def closed_loop_points(gazetteer: Any) -> list[tuple[float, float]]:
    """Where test_closed_loop's stream reports: its points, or where its addresses are found."""
    from bench.data import synthetic

    points = []
    for inc in synthetic(CLOSED_LOOP_STREAM, seed=CLOSED_LOOP_SEED):
        if inc.lon is not None and inc.lat is not None:
            points.append((inc.lon, inc.lat))
        elif inc.address and (found := gazetteer.at_address(inc.address)) is not None \
                and found.lon is not None and found.lat is not None:
            points.append((found.lon, found.lat))
    return points


class Places:
    """Hands out a different comprehensive grid to every caller, so that tests never meet each other's
    open cases (duplicates are merged by item and distance)."""

    # Places the intake tests report at (their incidents reach the session's router too): grids within
    # the duplicate radius of these are never handed out.
    RESERVED_POINTS = ((120.91, 32.02), (120.9102, 32.0201))
    RESERVED_ADDRESSES = ("人民东路128号",)
    # test_closed_loop's demo stream leaves open cases all over the district (its places are simcity's):
    # no grid whose centre lies within the duplicate radius (150 m) plus the tests' offsets of them.
    STREAM_CLEARANCE_DEG = 0.0025  # ~230 m

    def __init__(self, city_dir: Any) -> None:
        import json

        from shapely.geometry import Point, shape

        from services.router.domain.locate import Gazetteer

        grids_doc = json.loads((city_dir / "grids.geojson").read_text())
        gazetteer = Gazetteer(grids_doc, json.loads((city_dir / "gazetteer.json").read_text()))
        reserved = [Point(p) for p in self.RESERVED_POINTS]
        for address in self.RESERVED_ADDRESSES:
            found = gazetteer.at_address(address)
            if found is not None and found.lon is not None and found.lat is not None:
                reserved.append(Point(found.lon, found.lat))
        streamed = [Point(p) for p in closed_loop_points(gazetteer)]
        self._grids = [
            f["properties"] for f in grids_doc["features"]
            if f["properties"]["kind"] == "comprehensive"
            and all(shape(f["geometry"]).distance(p) > 0.003 for p in reserved)  # ~300 m
            and all(Point(f["properties"]["centroid_lon"], f["properties"]["centroid_lat"]).distance(p)
                    > self.STREAM_CLEARANCE_DEG for p in streamed)
        ]
        self._next = uuid.uuid4().int % len(self._grids)  # a reused stack keeps earlier sessions' cases

    def take(self) -> dict[str, Any]:
        grid = self._grids[self._next]
        self._next += 7  # spread over the district
        if self._next >= len(self._grids):
            self._next = self._next % len(self._grids) + 1
        return grid


@pytest.fixture(scope="session")
def places(city_dir: Any) -> Places:
    return Places(city_dir)


# Session fixtures that run the services in-process (defined beside their helpers; registered here).
from tests.integration.router_support import intake_client, list_dir, router_client  # noqa: E402, F401
