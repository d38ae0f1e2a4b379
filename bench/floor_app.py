"""Floor (c): the least an HTTP intake can do — FastAPI + pydantic validation of the 12345 ticket +
one awaited acks=all, idempotent produce of the record intake would publish — served by uvicorn like
intake (one process, uvloop + httptools, the collector settled after start-up as intake's).
`python -m bench.floor_app` (BENCH_FLOOR_PORT, KAFKA_BOOTSTRAP)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI

from runtime.heap import settled_heap
from runtime.kafka import make_producer, publish
from schemas.cloudevents import encode
from schemas.common import Channel
from schemas.intake_api import Accepted, HotlineTicket
from schemas.topics import INCIDENT_REPORTED, INTAKE_HOTLINE
from services.intake.domain.ids import incident_id
from services.intake.domain.normalise import from_hotline


def create_app(bootstrap: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.producer = make_producer(bootstrap, client_id="bench-floor-c")
        await app.state.producer.start()
        with settled_heap():  # the same collector settings as intake
            yield
        await app.state.producer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/hotline/tickets", status_code=202, response_model=Accepted)
    async def take(ticket: HotlineTicket) -> Accepted:
        iid = incident_id(Channel.HOTLINE, ticket.ticket_no)
        event = from_hotline(ticket, iid, datetime.now(UTC), None)
        record = encode(INTAKE_HOTLINE, ticket.ticket_no, event, type=INCIDENT_REPORTED,
                        source="/bench/floor", subject=iid, event_id=iid)
        await publish(app.state.producer, [record])
        return Accepted(incident_id=iid, duplicate=False, topic=INTAKE_HOTLINE)

    return app


def main() -> None:
    uvicorn.run(create_app(os.environ["KAFKA_BOOTSTRAP"]), host="127.0.0.1",
                port=int(os.environ.get("BENCH_FLOOR_PORT", "8099")), log_config=None, access_log=False,
                loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()
