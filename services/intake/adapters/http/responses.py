"""Mapping gateway outcomes to HTTP: 202 durable, 409 id reused for another body, 503 broker or
database down (with Retry-After)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from schemas.intake_api import Accepted
from services.intake.gateway import BrokerUnavailable, Conflict, Gateway, Published, Submission

RETRY_AFTER_SECONDS = 5

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid credential"},
    403: {"description": "credential valid but not allowed for this channel or actor"},
    409: {"description": "the natural id was already used for a different body"},
    413: {"description": "body too large"},
    415: {"description": "wrong media type"},
    422: {"description": "field-level validation errors"},
    429: {"description": "flooded: retry after the Retry-After header"},
    503: {"description": "Kafka did not acknowledge or the database is unreachable: nothing was accepted, "
                         "retry after Retry-After"},
}


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


async def accept(gw: Gateway, sub: Submission) -> Accepted:
    result = await gw.submit(sub)
    if isinstance(result, Conflict):
        raise HTTPException(409, f"{result.reason} (incident {result.incident_id})")
    assert isinstance(result, Published)
    return Accepted(incident_id=result.incident_id, duplicate=result.duplicate, topic=result.topic)


async def broker_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"event store unavailable, nothing accepted: {exc}"},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"incident ledger unavailable, nothing accepted: {type(exc).__name__}"},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


__all__ = ["ERRORS", "Accepted", "BrokerUnavailable", "accept", "broker_unavailable", "database_unavailable",
           "gateway"]
