"""Bad request input answers 4xx, never 500, on every service.

- A NUL byte in the path or query string is refused with 400 before any handler runs: PostgreSQL text
  cannot hold it (asyncpg raised `CharacterNotInRepertoireError`, a 500, for `GET /v1/cases?owner=%00`).
- Whatever else PostgreSQL refuses as data (SQLSTATE class 22: a value out of range, an invalid text
  representation) answers 400 with the database's own message, not the value."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class NulGuard:
    """ASGI middleware: 400 for a NUL byte anywhere in the path or query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            response = JSONResponse({"detail": "NUL bytes are not allowed in the path or query"}, status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    raw_path: bytes = scope.get("raw_path") or scope.get("path", "").encode()
    query: bytes = scope.get("query_string", b"")
    return b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query.replace(b"+", b" "))


async def database_refused_data(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"invalid value: {type(exc).__name__}"}, status_code=400)


def guard_inputs(app: FastAPI) -> None:
    app.add_middleware(NulGuard)
    app.add_exception_handler(asyncpg.exceptions.DataError, database_refused_data)
