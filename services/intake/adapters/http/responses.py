"""Mapping gateway outcomes to HTTP: 202 durable, 409 id reused for another body, 503 broker or
database down (with Retry-After)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response

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


async def gateway(request: Request) -> Gateway:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request."""
    gw: Gateway = request.app.state.gateway
    return gw


async def accept(gw: Gateway, sub: Submission) -> Accepted:
    result = await gw.submit(sub)
    if isinstance(result, Conflict):
        raise HTTPException(409, f"{result.reason} (incident {result.incident_id})")
    assert isinstance(result, Published)
    return Accepted(incident_id=result.incident_id, duplicate=result.duplicate, topic=result.topic)


def accepted(result: Published | Conflict) -> Response:
    """202 with the `Accepted` body, written directly (its fields are ours: nothing to validate again),
    or 409."""
    if isinstance(result, Conflict):
        raise HTTPException(409, f"{result.reason} (incident {result.incident_id})")
    body = {"incident_id": result.incident_id, "duplicate": result.duplicate, "topic": result.topic}
    return Response(orjson.dumps(body), status_code=202, media_type="application/json")


def batch_answer(results: list[Published | Conflict | BaseException]) -> Response:
    """207 with the `BatchResult` body: 202, 409 or 503 per item. A database outage fails the call (503)."""
    items: list[dict[str, Any]] = []
    for index, result in enumerate(results):
        item: dict[str, Any] = {"index": index, "status": 202, "incident_id": None, "duplicate": False, "error": None}
        if isinstance(result, Published):
            item["incident_id"], item["duplicate"] = result.incident_id, result.duplicate
        elif isinstance(result, Conflict):
            item["status"], item["error"] = 409, f"{result.reason} (incident {result.incident_id})"
        elif isinstance(result, BrokerUnavailable):
            item["status"], item["error"] = 503, f"not accepted: {result}"
        else:
            raise result
        items.append(item)
    ok = sum(1 for i in items if i["status"] == 202)
    return Response(orjson.dumps({"accepted": ok, "failed": len(items) - ok, "results": items}), status_code=207,
                    media_type="application/json")


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


__all__ = ["ERRORS", "Accepted", "BrokerUnavailable", "accept", "accepted", "batch_answer", "broker_unavailable",
           "database_unavailable", "gateway"]
