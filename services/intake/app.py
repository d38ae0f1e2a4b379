"""Intake's FastAPI app, built from settings (no import-time side effects)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runtime.app import equip
from runtime.db import DATABASE_OUTAGE
from runtime.health import health_router
from runtime.heap import settled_heap
from runtime.http_telemetry import NATIVE_TELEMETRY_OFF
from runtime.json_body import direct_routes
from runtime.logging import configure_logging
from runtime.telemetry import configure_tracing
from services.intake import wechat_inbox
from services.intake.adapters.http import actions, grid, hotline, miniprogram, open311, open311_list, wechat
from services.intake.adapters.http.guards import BodyGuard
from services.intake.adapters.http.responses import broker_unavailable, database_unavailable
from services.intake.bootstrap import Intake, bootstrap
from services.intake.domain.ratelimit import RateLimiter
from services.intake.gateway import BrokerUnavailable
from services.intake.settings import IntakeSettings

DESCRIPTION = """Gridline intake: the front door for the 12345 hotline, the grid workers' app, WeChat and
departments. Every 202 means the event is durable on Kafka (acks=all); a retry with the same natural id
returns the same incident id and publishes nothing new."""


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    configure_logging("intake", settings.log_level)
    configure_tracing("intake", settings.otel_console)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        intake = await bootstrap(settings)
        app.state.intake = intake
        app.state.gateway = intake.gateway
        inbox, flusher = wechat_inbox.build(intake.pool, intake.gateway, settings)
        app.state.wechat_inbox, app.state.wechat_flusher = inbox, flusher
        flusher.start()
        try:
            with settled_heap():  # start-up is done: what it loaded stays out of the collector's passes
                yield
        finally:
            await flusher.stop()
            await intake.close()

    app = FastAPI(title="Gridline intake", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  telemetry=NATIVE_TELEMETRY_OFF)
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(BrokerUnavailable, broker_unavailable)
    for outage in DATABASE_OUTAGE:  # the ledger is away: nothing was accepted, retry later (not a 500)
        app.add_exception_handler(outage, database_unavailable)
    for module in (hotline, grid, miniprogram, actions, wechat, open311, open311_list):
        app.include_router(module.router)

    async def db_ready() -> bool:
        intake: Intake = app.state.intake
        return bool(await intake.pool.fetchval("SELECT 1"))

    async def kafka_ready() -> bool:
        intake: Intake = app.state.intake
        await intake.producer.client.fetch_all_metadata()
        return True

    direct_routes(app, hotline.DIRECT)  # the 12345 routes' hot path without FastAPI's request handling
    equip(app, "intake")
    app.include_router(health_router("intake", {"database": db_ready, "kafka": kafka_ready}))
    return app
