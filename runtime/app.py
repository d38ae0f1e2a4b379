"""The app factory shared by the consuming services (router, sla, scoring): the running service is
built by its bootstrap in the lifespan and exposed as `app.state.<name>`; readiness looks at its
database, the broker, its consumer group's partition assignment and its background loops — each
reports an outage while it lasts and recovers by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import APIRouter, FastAPI

from runtime.health import health_router
from runtime.heap import settled_heap
from runtime.http_telemetry import NATIVE_TELEMETRY_OFF, RequestTelemetry
from runtime.inputs import guard_inputs
from runtime.logging import configure_logging
from runtime.metrics import metrics_router
from runtime.service import Loops
from runtime.settings import PlatformSettings
from runtime.telemetry import configure_tracing


class RunningService(Protocol):
    @property
    def pool(self) -> asyncpg.Pool: ...

    @property
    def loops(self) -> Loops: ...

    @property
    def producer(self) -> AIOKafkaProducer: ...

    @property
    def consumer(self) -> AIOKafkaConsumer | None: ...

    async def close(self) -> None: ...


def equip(app: FastAPI, service: str) -> None:
    """What every service's app has: 4xx for bad input, HTTP metrics, `/metrics`, request traces."""
    guard_inputs(app)
    app.include_router(metrics_router())
    app.add_middleware(RequestTelemetry, service=service)  # outermost of ours: it times and traces the rest


async def broker_reachable(producer: AIOKafkaProducer) -> bool:
    """A metadata round trip to the cluster names at least one live broker."""
    metadata = await producer.client.fetch_all_metadata()
    return bool(metadata.brokers())


def service_app(
    name: str,
    description: str,
    settings: PlatformSettings,
    start: Callable[[], Awaitable[RunningService]],
    routers: list[APIRouter],
) -> FastAPI:
    configure_logging(name, settings.log_level)
    configure_tracing(name, settings.otel_console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setattr(app.state, name, await start())
        try:
            with settled_heap():  # start-up is done: what it loaded stays out of the collector's passes
                yield
        finally:
            await getattr(app.state, name).close()

    app = FastAPI(title=f"Gridline {name}", version="1.0.0", description=description, lifespan=lifespan,
                  telemetry=NATIVE_TELEMETRY_OFF)
    for router in routers:
        app.include_router(router)

    def running() -> RunningService:
        service: RunningService = getattr(app.state, name)
        return service

    async def db_ready() -> bool:
        return bool(await running().pool.fetchval("SELECT 1"))

    async def loops_alive() -> bool:
        return running().loops.alive()

    async def broker_ready() -> bool:
        return await broker_reachable(running().producer)

    async def partitions_assigned() -> bool:
        consumer = running().consumer
        return consumer is not None and bool(consumer.assignment())

    equip(app, name)
    app.include_router(health_router(name, {"database": db_ready, "kafka": broker_ready,
                                            "assignment": partitions_assigned, "loops": loops_alive}))
    return app
