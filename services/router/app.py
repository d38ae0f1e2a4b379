"""Router's FastAPI app: query API and health; the consumer and outbox loops run in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runtime.health import health_router
from runtime.logging import configure_logging
from runtime.telemetry import TracingMiddleware, configure_tracing
from services.router.adapters.http import router as http_router
from services.router.bootstrap import Router, bootstrap
from services.router.settings import RouterSettings


def create_app(settings: RouterSettings | None = None) -> FastAPI:
    settings = settings or RouterSettings()
    configure_logging("router", settings.log_level)
    configure_tracing("router", settings.otel_console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.router = await bootstrap(settings)
        try:
            yield
        finally:
            await app.state.router.close()

    app = FastAPI(title="Gridline router", version="1.0.0", lifespan=lifespan,
                  description="Owns cases: routing by the responsibility list, timeline, returns, escalations.")
    app.include_router(http_router)

    async def db_ready() -> bool:
        r: Router = app.state.router
        return bool(await r.pool.fetchval("SELECT 1"))

    async def loops_alive() -> bool:
        r: Router = app.state.router
        return r.loops.alive()

    app.add_middleware(TracingMiddleware, service="router")
    app.include_router(health_router("router", {"database": db_ready, "loops": loops_alive}))
    return app
