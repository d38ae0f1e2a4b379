"""SLA's FastAPI app: query API and health; the consumer, outbox and timer loops run in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runtime.health import health_router
from runtime.logging import configure_logging
from runtime.telemetry import TracingMiddleware, configure_tracing
from services.sla.adapters.http import router as http_router
from services.sla.bootstrap import Sla, bootstrap
from services.sla.settings import SlaSettings


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    configure_logging("sla", settings.log_level)
    configure_tracing("sla", settings.otel_console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.sla = await bootstrap(settings)
        try:
            yield
        finally:
            await app.state.sla.close()

    app = FastAPI(title="Gridline sla", version="1.0.0", lifespan=lifespan,
                  description="Deadlines per case stage on a working-day calendar; warnings; escalation decisions.")
    app.include_router(http_router)

    async def db_ready() -> bool:
        s: Sla = app.state.sla
        return bool(await s.pool.fetchval("SELECT 1"))

    async def loops_alive() -> bool:
        s: Sla = app.state.sla
        return s.loops.alive()

    app.add_middleware(TracingMiddleware, service="sla")
    app.include_router(health_router("sla", {"database": db_ready, "loops": loops_alive}))
    return app
