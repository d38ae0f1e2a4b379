"""A FastAPI route's hot path served as a plain endpoint (`DirectJsonRoute`): for a good JSON body the
direct handler answers without FastAPI's request handling; for anything else — a bad body, another media
type, another method — FastAPI's own route answers, so every answer, the OpenAPI document and the
route template the telemetry names are the same as without it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.json_body import DirectJsonRoute, direct_routes
from schemas.intake_api import HotlineBatch
from tests.unit.runtime.test_json_body import BAD, TICKET

CALLS: list[str] = []
ROUTES: list[str] = []


async def source(request: Request) -> str:
    key = request.headers.get("x-api-key")
    if key is None:
        raise HTTPException(401, "send X-Api-Key", headers={"WWW-Authenticate": "ApiKey"})
    if key != "good":
        raise HTTPException(403, "not allowed")
    return key


async def take(batch: HotlineBatch, who: str) -> Response:
    if batch.tickets[0].ticket_no == "T-CONFLICT":
        raise HTTPException(409, "this id was already used")
    return Response(orjson.dumps({"tickets": len(batch.tickets), "by": who}), status_code=207,
                    media_type="application/json")


class RouteSeen:
    """What the telemetry middleware reads after the app ran: the matched route's template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            ROUTES.append(getattr(scope.get("route"), "path", "unmatched"))


def _app(direct: bool) -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.post("/tickets:batch", status_code=207, summary="Take tickets")
    async def take_batch(batch: HotlineBatch, who: Annotated[str, Depends(source)]) -> Response:
        CALLS.append("fastapi")
        return await take(batch, who)

    async def take_direct(request: Request, batch: HotlineBatch) -> Response:
        CALLS.append("direct")
        return await take(batch, await source(request))

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(RouteSeen)
    if direct:
        direct_routes(app, {("POST", "/v1/tickets:batch"): (HotlineBatch, take_direct)})
    return app


FASTAPI, DIRECT = _app(direct=False), _app(direct=True)


async def _answer(app: FastAPI, content: bytes, content_type: str | None = "application/json",
                  key: str | None = "good", method: str = "POST") -> tuple[int, Any, str | None] | str:
    headers = {k: v for k, v in (("content-type", content_type), ("x-api-key", key)) if v is not None}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            answer = await client.request(method, "/v1/tickets:batch", content=content, headers=headers)
    except ValueError as exc:  # a bare FastAPI app writing a 422 that echoes NaN (as in test_json_body)
        return type(exc).__name__
    return answer.status_code, answer.json(), answer.headers.get("www-authenticate")


GOOD = json.dumps({"tickets": [TICKET]}).encode()


def test_the_openapi_document_is_fastapis_own() -> None:
    assert DIRECT.openapi() == FASTAPI.openapi()
    assert any(isinstance(r, DirectJsonRoute) for r in DIRECT.router.routes)


async def test_a_good_body_is_answered_directly_with_the_same_answer_and_route_template() -> None:
    CALLS.clear()
    ROUTES.clear()
    assert await _answer(DIRECT, GOOD) == await _answer(FASTAPI, GOOD) == (207, {"tickets": 1, "by": "good"}, None)
    assert CALLS == ["direct", "fastapi"]
    assert ROUTES == ["/v1/tickets:batch", "/v1/tickets:batch"]


@pytest.mark.parametrize(("key", "ticket_no"), [(None, "T-1"), ("bad", "T-1"), ("good", "T-CONFLICT")])
async def test_refusals_raised_by_the_direct_handler_are_fastapis_answers(key: str | None, ticket_no: str) -> None:
    body = json.dumps({"tickets": [{**TICKET, "ticket_no": ticket_no}]}).encode()
    direct = await _answer(DIRECT, body, key=key)
    assert direct == await _answer(FASTAPI, body, key=key)
    assert not isinstance(direct, str) and direct[0] in (401, 403, 409)


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("key", ["good", None])
async def test_anything_else_gets_fastapis_own_answer_in_fastapis_order(case: str, key: str | None) -> None:
    content, content_type = BAD[case]
    CALLS.clear()
    direct = await _answer(DIRECT, content, content_type, key=key)
    assert direct == await _answer(FASTAPI, content, content_type, key=key)
    assert "direct" not in CALLS


async def test_another_method_is_fastapis_answer() -> None:
    assert await _answer(DIRECT, b"", method="GET") == await _answer(FASTAPI, b"", method="GET")
