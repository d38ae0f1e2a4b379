"""The pages: static files written here (HTML, CSS, plain JavaScript and SVG), nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[2] / "static"
router = APIRouter(include_in_schema=False)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/")


@router.get("/console/")
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
