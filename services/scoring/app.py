"""Scoring's FastAPI app: query API and health; consumer, publisher and outbox loops run in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runtime.health import health_router
from runtime.logging import configure_logging
from runtime.telemetry import TracingMiddleware, configure_tracing
from services.scoring.adapters.http import router as http_router
from services.scoring.bootstrap import Scoring, bootstrap
from services.scoring.settings import ScoringSettings


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    configure_logging("scoring", settings.log_level)
    configure_tracing("scoring", settings.otel_console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.scoring = await bootstrap(settings)
        try:
            yield
        finally:
            await app.state.scoring.close()

    app = FastAPI(title="Gridline scoring", version="1.0.0", lifespan=lifespan,
                  description="The one ruler (一把尺子考核): monthly score cards from the case and SLA event log.")
    app.include_router(http_router)

    async def db_ready() -> bool:
        s: Scoring = app.state.scoring
        return bool(await s.pool.fetchval("SELECT 1"))

    async def loops_alive() -> bool:
        s: Scoring = app.state.scoring
        return s.loops.alive()

    app.add_middleware(TracingMiddleware, service="scoring")
    app.include_router(health_router("scoring", {"database": db_ready, "loops": loops_alive}))
    return app
