"""A route whose JSON body is validated in one pass from the raw bytes: the same OpenAPI document, the
same model and the same 422 bodies as FastAPI's own parse-then-validate, for good and bad bodies."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Body, FastAPI
from fastapi.routing import APIRoute

from runtime.json_body import OnePassJsonRoute
from schemas.intake_api import HotlineBatch

TICKET = {"ticket_no": "12345-20261123-000187", "call_time": "2026-11-23T09:15:00+08:00",
          "caller_phone": "13812345678", "appeal_type": "投诉", "text": " 人民东路128号门口井盖破损 ",
          "address": "通江区人民东路128号", "operator_id": "OP-1",
          "point": {"lon": 104.7, "lat": 31.86}}
SEEN: list[HotlineBatch] = []


def _app(router: APIRouter) -> FastAPI:
    @router.post("/tickets:batch", status_code=207, summary="Take tickets")
    async def take(batch: HotlineBatch) -> dict[str, Any]:
        SEEN.append(batch)
        return {"tickets": len(batch.tickets)}

    app = FastAPI()
    app.include_router(router)
    return app


FASTAPI = _app(APIRouter(prefix="/v1"))
ONE_PASS = _app(APIRouter(prefix="/v1", route_class=OnePassJsonRoute))


async def _post(app: FastAPI, content: bytes, content_type: str | None = "application/json") -> httpx.Response:
    headers = {} if content_type is None else {"content-type": content_type}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post("/v1/tickets:batch", content=content, headers=headers)


def test_the_openapi_document_is_fastapis_own() -> None:
    assert ONE_PASS.openapi() == FASTAPI.openapi()


async def test_a_good_body_gives_the_same_model() -> None:
    SEEN.clear()
    body = json.dumps({"tickets": [TICKET, {**TICKET, "ticket_no": "T-0002", "urgency": "urgent"}]}).encode()
    one_pass, fastapi = await _post(ONE_PASS, body), await _post(FASTAPI, body)
    assert one_pass.status_code == fastapi.status_code == 207
    assert one_pass.json() == fastapi.json()
    assert SEEN[0] == SEEN[1] and SEEN[0].tickets[0].text == "人民东路128号门口井盖破损"


BAD = {
    "not JSON": (b'{"tickets": [', "application/json"),
    "empty": (b"", "application/json"),
    "a missing field": (json.dumps({"tickets": [{k: v for k, v in TICKET.items() if k != "text"}]}).encode(),
                        "application/json"),
    "an unknown appeal type": (json.dumps({"tickets": [{**TICKET, "appeal_type": "抱怨"}]}).encode(),
                               "application/json"),
    "an extra field": (json.dumps({"tickets": [{**TICKET, "x": 1}]}).encode(), "application/json"),
    "no tickets": (b'{"tickets": []}', "application/json"),
    "NaN": (json.dumps({"tickets": [{**TICKET, "point": {"lon": float("nan"), "lat": 1}}]}).encode(),
            "application/json"),
    "a lone surrogate": (b'{"tickets": [{"ticket_no": "\\ud800"}]}', "application/json"),
    "a list": (b"[1, 2]", "application/json"),
    "charset in the media type": (b'{"tickets": 3}', "application/json; charset=utf-8"),
    "no media type": (b'{"tickets": 3}', None),
    "another media type": (b'{"tickets": 3}', "text/plain"),
}


async def _answer(app: FastAPI, content: bytes, content_type: str | None) -> tuple[int, Any] | str:
    """Status and body, or the error a bare FastAPI app raises writing its 422 (NaN, a lone surrogate
    echoed back as the input: intake's own handlers answer those, tests/integration/test_intake_fuzz.py)."""
    try:
        answer = await _post(app, content, content_type)
    except ValueError as exc:
        return type(exc).__name__
    return answer.status_code, answer.json()


@pytest.mark.parametrize("case", BAD)
async def test_a_bad_body_gets_fastapis_own_answer(case: str) -> None:
    content, content_type = BAD[case]
    one_pass = await _answer(ONE_PASS, content, content_type)
    assert one_pass == await _answer(FASTAPI, content, content_type)
    assert isinstance(one_pass, str) or one_pass[0] == 422


async def test_a_good_body_is_validated_from_its_bytes_without_parsing_it_into_dicts_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_parse(_: Any) -> Any:
        raise AssertionError("parsed into dicts and lists first")

    monkeypatch.setattr("starlette.requests.Request.json", no_parse)
    answer = await _post(ONE_PASS, json.dumps({"tickets": [TICKET]}).encode())
    assert answer.status_code == 207 and answer.json() == {"tickets": 1}


def _several_bodies(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.post("/embedded")
    async def embedded(batch: Annotated[HotlineBatch, Body(embed=True)]) -> int:
        return len(batch.tickets)

    @router.post("/two")
    async def two(batch: HotlineBatch, other: HotlineBatch) -> int:
        return len(batch.tickets) + len(other.tickets)

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.mark.parametrize(("path", "content"), [
    ("/embedded", {"batch": {"tickets": [TICKET]}}),
    ("/two", {"batch": {"tickets": [TICKET]}, "other": {"tickets": [TICKET, TICKET]}}),
])
async def test_an_embedded_body_or_several_bodies_are_fastapis_own(path: str, content: dict[str, Any]) -> None:
    answers = []
    for app in (_several_bodies(APIRoute), _several_bodies(OnePassJsonRoute)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            answers.append((await client.post(path, json=content)).json())
    assert answers[0] == answers[1] == sum(len(b["tickets"]) for b in content.values())
