"""Scoring's FastAPI app: query API and health; consumer, publisher and outbox loops run in its lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from runtime.app import service_app
from services.scoring.adapters.http import router as http_router
from services.scoring.bootstrap import bootstrap
from services.scoring.settings import ScoringSettings

DESCRIPTION = "The one ruler (一把尺子考核): monthly score cards from the case and SLA event log."


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    return service_app("scoring", DESCRIPTION, settings, lambda: bootstrap(settings), [http_router])
