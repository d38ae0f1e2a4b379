"""`GET /api/events`: server-sent events, one per case or SLA event applied to the read model — only
those about cases the user may see. A comment line every 15 s keeps proxies from closing the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from services.console.adapters.http.auth import current_user
from services.console.domain.access import may_see
from services.console.domain.users import User

router = APIRouter(prefix="/api", tags=["live"])
KEEPALIVE_SECONDS = 15.0


@router.get("/events", summary="Live notices (text/event-stream): `case` and `sla` events as they are applied")
async def events(request: Request, user: Annotated[User, Depends(current_user)]) -> StreamingResponse:
    hub = request.app.state.console.hub

    async def stream() -> AsyncIterator[str]:
        queue = hub.subscribe()
        try:
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                try:
                    notice = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice.get("owner") is None or may_see(user, notice):
                    kind = "case" if notice["topic"].startswith("case.") else "sla"
                    yield f"event: {kind}\ndata: {json.dumps(notice, ensure_ascii=False)}\n\n"
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
