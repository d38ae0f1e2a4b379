"""Router's FastAPI app: query API and health; the consumer and outbox loops run in its lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from runtime.app import service_app
from services.router.adapters.http import router as http_router
from services.router.bootstrap import bootstrap
from services.router.settings import RouterSettings

DESCRIPTION = "Owns cases: routing by the responsibility list, timeline, returns, escalations."


def create_app(settings: RouterSettings | None = None) -> FastAPI:
    settings = settings or RouterSettings()
    return service_app("router", DESCRIPTION, settings, lambda: bootstrap(settings), [http_router])
