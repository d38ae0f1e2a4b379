"""SLA's FastAPI app: query API and health; the consumer, outbox and timer loops run in its lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from runtime.app import service_app
from services.sla.adapters.http import router as http_router
from services.sla.bootstrap import bootstrap
from services.sla.settings import SlaSettings

DESCRIPTION = "Deadlines per case stage on a working-day calendar; warnings; escalation decisions."


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    return service_app("sla", DESCRIPTION, settings, lambda: bootstrap(settings), [http_router])
