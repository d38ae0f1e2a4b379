"""The console's FastAPI app: pages, their JSON API and live events; the read model's consumer runs in
its lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from runtime.app import service_app
from services.console.adapters.http import api, auth, events, pages
from services.console.bootstrap import bootstrap
from services.console.settings import ConsoleSettings

DESCRIPTION = "The command centre's console (联动指挥一张图): queues, map, overdue board, cases, hotspots, scores."


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    app = service_app("console", DESCRIPTION, settings, lambda: bootstrap(settings),
                      [auth.router, api.router, events.router, pages.router])
    app.mount("/static", pages.static_files(), name="static")
    return app
