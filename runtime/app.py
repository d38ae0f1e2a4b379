"""The app factory shared by the consuming services (router, sla, scoring): the running service is
built by its bootstrap in the lifespan and exposed as `app.state.<name>`; health checks look at its
database pool and its background loops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import asyncpg
from fastapi import APIRouter, FastAPI

from runtime.health import health_router
from runtime.logging import configure_logging
from runtime.service import Loops
from runtime.settings import PlatformSettings
from runtime.telemetry import TracingMiddleware, configure_tracing


class RunningService(Protocol):
    @property
    def pool(self) -> asyncpg.Pool: ...

    @property
    def loops(self) -> Loops: ...

    async def close(self) -> None: ...


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
            yield
        finally:
            await getattr(app.state, name).close()

    app = FastAPI(title=f"Gridline {name}", version="1.0.0", description=description, lifespan=lifespan)
    for router in routers:
        app.include_router(router)

    def running() -> RunningService:
        service: RunningService = getattr(app.state, name)
        return service

    async def db_ready() -> bool:
        return bool(await running().pool.fetchval("SELECT 1"))

    async def loops_alive() -> bool:
        return running().loops.alive()

    app.add_middleware(TracingMiddleware, service=name)
    app.include_router(health_router(name, {"database": db_ready, "loops": loops_alive}))
    return app
