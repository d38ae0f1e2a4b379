"""12345 hotline adapter: `POST /v1/hotline/tickets` and `POST /v1/hotline/tickets:batch`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from schemas.common import Channel
from schemas.intake_api import Accepted, BatchResult, HotlineBatch, HotlineTicket, ItemResult
from schemas.topics import INCIDENT_REPORTED, INTAKE_HOTLINE
from services.intake.adapters.http.guards import require_source, throttle
from services.intake.adapters.http.responses import ERRORS, accept, gateway
from services.intake.domain.ids import body_hash, incident_id
from services.intake.domain.normalise import from_hotline
from services.intake.gateway import BrokerUnavailable, Gateway, Submission

router = APIRouter(prefix="/v1/hotline", tags=["12345 hotline"])
Source = Annotated[str, Depends(require_source("hotline"))]


def _submission(ticket: HotlineTicket) -> Submission:
    received = datetime.now(UTC)
    return Submission(
        channel=Channel.HOTLINE.value,
        natural_id=ticket.ticket_no,
        incident_id=incident_id(Channel.HOTLINE, ticket.ticket_no),
        body_hash=body_hash(ticket.model_dump(mode="json")),
        topic=INTAKE_HOTLINE,
        event_type=INCIDENT_REPORTED,
        key=ticket.ticket_no,
        build=lambda iid, ref: from_hotline(ticket, iid, received, ref),
        contact=ticket.caller_phone,
    )


@router.post("/tickets", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Take one 12345 ticket; 202 once it is durable on intake.hotline.v1")
async def take_ticket(ticket: HotlineTicket, _: Source, gw: Annotated[Gateway, Depends(gateway)]) -> Accepted:
    return await accept(gw, _submission(ticket))


@router.post("/tickets:batch", status_code=207, response_model=BatchResult, responses=ERRORS,
             summary="Take up to 500 tickets; per-item results (202, 409 or 503 per item)")
async def take_batch(
    batch: HotlineBatch, source: Source, request: Request, gw: Annotated[Gateway, Depends(gateway)]
) -> BatchResult:
    throttle(request, source, cost=len(batch.tickets) - 1)  # the dependency already took one token

    async def one(index: int, ticket: HotlineTicket) -> ItemResult:
        """All of the call's tickets are submitted at once: they share the gateway's next group commit."""
        try:
            done = await accept(gw, _submission(ticket))
        except HTTPException as exc:
            return ItemResult(index=index, status=exc.status_code, error=str(exc.detail))
        except BrokerUnavailable as exc:
            return ItemResult(index=index, status=503, error=f"not accepted: {exc}")
        return ItemResult(index=index, status=202, incident_id=done.incident_id, duplicate=done.duplicate)

    results = await asyncio.gather(*(one(i, t) for i, t in enumerate(batch.tickets)))
    ok = sum(1 for r in results if r.status == 202)
    return BatchResult(accepted=ok, failed=len(results) - ok, results=list(results))
