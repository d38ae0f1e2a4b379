"""12345 hotline adapter: `POST /v1/hotline/tickets` and `POST /v1/hotline/tickets:batch`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from runtime.json_body import Direct, OnePassJsonRoute
from schemas.common import Channel
from schemas.intake_api import Accepted, BatchResult, HotlineBatch, HotlineTicket
from schemas.topics import INCIDENT_REPORTED, INTAKE_HOTLINE
from services.intake.adapters.http.guards import SOURCE_SECURITY, authenticate, source_for, throttle
from services.intake.adapters.http.responses import ERRORS, accepted, batch_answer
from services.intake.domain.ids import incident_id, request_hash
from services.intake.domain.normalise import hotline_json
from services.intake.gateway import Gateway, Submission

# The tickets' JSON is validated from the request's bytes in one pass (runtime/json_body.py).
router = APIRouter(prefix="/v1/hotline", tags=["12345 hotline"], route_class=OnePassJsonRoute)
Source = Annotated[str, Depends(source_for("hotline"))]
DOCUMENTED = {"security": SOURCE_SECURITY}


_HOTLINE = Channel.HOTLINE.value  # read once: an enum's `.value` is a Python property


def _submission(ticket: HotlineTicket, received: datetime) -> Submission:
    return Submission(
        channel=_HOTLINE,
        natural_id=ticket.ticket_no,
        incident_id=incident_id(Channel.HOTLINE, ticket.ticket_no),
        body_hash=request_hash(ticket),
        topic=INTAKE_HOTLINE,
        event_type=INCIDENT_REPORTED,
        key=ticket.ticket_no,
        build=lambda iid, ref: hotline_json(ticket, iid, received, ref),  # the event's JSON, written once
        contact=ticket.caller_phone,
        request=ticket,
    )


def _gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


async def _take(ticket: HotlineTicket, request: Request) -> Response:
    return accepted(await _gateway(request).submit(_submission(ticket, datetime.now(UTC))))


async def _take_batch(batch: HotlineBatch, source: str, request: Request) -> Response:
    throttle(request, source, cost=len(batch.tickets) - 1)  # the credential check already took one token
    received = datetime.now(UTC)
    # All of the call's tickets are queued at once: they share the gateway's next group commit.
    return batch_answer(await _gateway(request).submit_many([_submission(t, received) for t in batch.tickets]))


@router.post("/tickets", status_code=202, response_model=Accepted, responses=ERRORS, openapi_extra=DOCUMENTED,
             summary="Take one 12345 ticket; 202 once it is durable on intake.hotline.v1")
async def take_ticket(ticket: HotlineTicket, _: Source, request: Request) -> Response:
    return await _take(ticket, request)


@router.post("/tickets:batch", status_code=207, response_model=BatchResult, responses=ERRORS,
             openapi_extra=DOCUMENTED, summary="Take up to 500 tickets; per-item results (202, 409 or 503 per item)")
async def take_batch(batch: HotlineBatch, source: Source, request: Request) -> Response:
    return await _take_batch(batch, source, request)


async def _take_direct(request: Request, ticket: HotlineTicket) -> Response:
    await authenticate(request, "hotline")  # what the `Source` dependency does
    return await _take(ticket, request)


async def _take_batch_direct(request: Request, batch: HotlineBatch) -> Response:
    return await _take_batch(batch, await authenticate(request, "hotline"), request)


# The two routes' hot path, served in front of them without FastAPI's request handling
# (runtime/json_body.py: DirectJsonRoute; anything but a valid JSON body goes to the routes above).
DIRECT: dict[tuple[str, str], tuple[type[BaseModel], Direct]] = {
    ("POST", "/v1/hotline/tickets"): (HotlineTicket, _take_direct),
    ("POST", "/v1/hotline/tickets:batch"): (HotlineBatch, _take_batch_direct),
}
