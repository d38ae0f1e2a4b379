"""What every publishing system meets before its body is read: credentials (API key or HMAC signature),
body size, media type and flood control. Every refusal publishes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app
from services.intake.domain.credentials import sign_body
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import keyed, mentioning, published
from tests.integration.intake_support import HOTLINE_KEY, intake_settings, ticket

pytestmark = pytest.mark.integration
URL = "/v1/hotline/tickets"
SOURCE, SECRET = "hotline-12345", "dev-hotline-key"


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET, source: str = SOURCE) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Gridline-Source": source,
            "X-Gridline-Signature": sign_body(secret, timestamp or int(time.time()), body)}


async def test_a_body_signed_with_the_sources_secret_is_accepted(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    body = json.dumps(ticket(f"S-{uid}"), ensure_ascii=False).encode()
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(URL, content=body, headers=signed(body))
    assert answer.status_code == 202, answer.text
    assert len(await topics.collect(INTAKE_HOTLINE, keyed(f"S-{uid}"), expect=1, settle=1.0)) == 1


async def test_bad_or_stale_signatures_are_unauthorized_and_publish_nothing(stack: Stack, uid: str) -> None:
    body = json.dumps(ticket(f"SB-{uid}"), ensure_ascii=False).encode()
    other = json.dumps(ticket(f"SB-{uid}", text="改过的内容，改过的内容"), ensure_ascii=False).encode()
    async with serve(create_app(intake_settings(stack, signature_window_seconds=300))) as client:
        now = int(time.time())  # after start-up; ±360 s: outside the 300 s window even on a slow machine
        answers = {
            "wrong secret": await client.post(URL, content=body, headers=signed(body, secret="guess")),
            "tampered body": await client.post(URL, content=other, headers=signed(body)),
            "replayed": await client.post(URL, content=body, headers=signed(body, now - 360)),
            "from the future": await client.post(URL, content=body, headers=signed(body, now + 360)),
            "unknown source": await client.post(URL, content=body, headers=signed(body, source="nobody")),
            "no timestamp": await client.post(URL, content=body, headers={
                **signed(body), "X-Gridline-Signature": "v1=" + "0" * 64}),
            "garbage header": await client.post(URL, content=body, headers={
                **signed(body), "X-Gridline-Signature": "t=abc,v1=,=,,"}),
            "no credential": await client.post(URL, content=body, headers={"Content-Type": "application/json"}),
            "unknown key": await client.post(URL, content=body, headers={
                "Content-Type": "application/json", "X-Api-Key": "not-a-key"}),
        }
    assert {name: a.status_code for name, a in answers.items()} == {name: 401 for name in answers}
    assert all("WWW-Authenticate" in a.headers for a in answers.values())
    assert "replay" in answers["replayed"].json()["detail"]
    assert await published(stack, INTAKE_HOTLINE, mentioning(f"SB-{uid}")) == []


async def test_a_declared_content_length_over_the_limit_is_413_before_the_body_is_read(
    stack: Stack, uid: str
) -> None:
    body = json.dumps(ticket(f"L-{uid}", text="井盖破损" * 300), ensure_ascii=False).encode()
    async with serve(create_app(intake_settings(stack, max_body_bytes=2048))) as client:
        answer = await client.post(URL, content=body, headers={**HOTLINE_KEY, "Content-Type": "application/json"})
    assert len(body) > 2048 and answer.status_code == 413
    assert await published(stack, INTAKE_HOTLINE, keyed(f"L-{uid}")) == []


@pytest.mark.parametrize("auth", ["api key", "signature"])
async def test_a_chunked_body_without_content_length_is_413_once_it_passes_the_limit(
    stack: Stack, uid: str, auth: str
) -> None:
    body = json.dumps(ticket(f"LC-{uid}", text="井盖破损" * 300), ensure_ascii=False).encode()
    headers = signed(body) if auth == "signature" else {**HOTLINE_KEY, "Content-Type": "application/json"}

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 512):
            yield body[i:i + 512]

    async with serve(create_app(intake_settings(stack, max_body_bytes=2048))) as client:
        answer = await client.post(URL, content=chunks(), headers=headers)
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413, answer.text
    assert await published(stack, INTAKE_HOTLINE, keyed(f"LC-{uid}")) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", None])
async def test_a_json_endpoint_refuses_other_media_types_with_415(
    stack: Stack, uid: str, content_type: str | None
) -> None:
    body = json.dumps(ticket(f"M-{uid}"), ensure_ascii=False).encode()
    headers = {**HOTLINE_KEY, **({"Content-Type": content_type} if content_type else {})}
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(URL, content=body, headers=headers)
    assert answer.status_code == 415
    assert await published(stack, INTAKE_HOTLINE, keyed(f"M-{uid}")) == []


@pytest.mark.parametrize("body", [b"{\"ticket_no\": ", b"[]", b"null", b"\xff\xfe", b"{}", b"{\"tickets\": 1}"])
async def test_malformed_json_is_a_422_and_publishes_nothing(stack: Stack, body: bytes) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(URL, content=body, headers={**HOTLINE_KEY, "Content-Type": "application/json"})
        batch = await client.post(f"{URL}:batch", content=body,
                                  headers={**HOTLINE_KEY, "Content-Type": "application/json"})
    assert answer.status_code == 422 and batch.status_code == 422
    assert isinstance(answer.json()["detail"], list)


async def test_a_flooding_source_gets_429_with_retry_after_and_others_are_not_slowed(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    async with serve(create_app(intake_settings(stack, rate_per_second=0.2, rate_burst=2))) as client:
        answers = [await client.post(URL, json=ticket(f"F-{uid}-{i}"), headers=HOTLINE_KEY) for i in range(4)]
        other_source = await client.post(f"/v1/cases/C-F-{uid}/actions", headers={"X-Api-Key": "dev-dept-key"}, json={
            "action_id": f"A-{uid}", "kind": "accept", "actor": "URBAN_MGMT", "taken_at": "2026-11-23T10:00:00Z"})
    assert [a.status_code for a in answers] == [202, 202, 429, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 6
    assert other_source.status_code == 202
    assert await published(stack, INTAKE_HOTLINE, keyed(f"F-{uid}-2")) == []
    assert await published(stack, INTAKE_HOTLINE, keyed(f"F-{uid}-3")) == []
