"""`/healthz` (process alive) and `/readyz` (dependencies answer) for every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[bool]]


def health_router(service: str, checks: dict[str, Check], timeout: float = 2.0) -> APIRouter:
    """Each check answers within `timeout` seconds or counts as failed (a database that is down may
    otherwise hold a connection attempt for a minute)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", summary="Readiness: database and broker reachable, loops running")
    async def readyz() -> JSONResponse:
        answers = await asyncio.gather(*(asyncio.wait_for(check(), timeout) for check in checks.values()),
                                       return_exceptions=True)
        results = {name: answer is True for name, answer in zip(checks, answers, strict=True)}
        ok = all(results.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": results},
                            status_code=200 if ok else 503)

    return router
