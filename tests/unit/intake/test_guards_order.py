"""A caller without valid credentials learns nothing about the body's schema: 401 comes before any 422 on
the 12345 routes, whose bodies are validated in one pass from their bytes (runtime/json_body.py)."""

from __future__ import annotations

import json

import httpx
import pytest

from services.intake.app import create_app

TICKET = {"ticket_no": "12345-20261123-000187", "call_time": "2026-11-23T09:15:00+08:00",
          "appeal_type": "投诉", "text": "", "address": "人民东路128号", "operator_id": "OP-1"}  # empty text: invalid


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/hotline/tickets", TICKET),
    ("/v1/hotline/tickets:batch", {"tickets": [TICKET]}),
    ("/v1/hotline/tickets:batch", {"tickets": []}),
])
@pytest.mark.parametrize("credentials", [{}, {"x-api-key": "wrong"}], ids=["none", "unknown key"])
async def test_an_invalid_body_without_valid_credentials_is_refused_401(
    path: str, body: object, credentials: dict[str, str]
) -> None:
    app = create_app()  # no lifespan: the guard answers before anything needs Kafka or PostgreSQL
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        resp = await client.post(path, content=json.dumps(body).encode(),
                                 headers={"content-type": "application/json", **credentials})
    assert resp.status_code == 401 and "ticket_no" not in resp.text
