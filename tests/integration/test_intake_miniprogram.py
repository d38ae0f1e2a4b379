"""WeChat mini program submissions: exactly once on intake.wechat.v1, the openid masked, the full one in the
callback vault and readable only through `Gateway.reveal_contact`, which logs every read."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from deploy.local.stack import Stack
from schemas.common import Channel
from schemas.topics import INTAKE_WECHAT
from services.intake.app import create_app
from services.intake.domain.ids import incident_id
from services.intake.domain.privacy import mask_openid
from services.intake.gateway import Gateway
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import keyed, payload, published
from tests.integration.intake_support import HOTLINE_KEY, MINI_KEY, intake_settings

pytestmark = pytest.mark.integration
ACCOUNT = "tongjiang"
URL = f"/v1/wechat/{ACCOUNT}/submissions"


def submission(request_id: str, openid: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": request_id, "openid": openid, "text": "小区门口路灯不亮一周了，电话13912345678",
        "photos": ["https://img.example.cn/lamp.jpg"],
        "location": {"lon": 120.91, "lat": 32.02, "address": "通江区和平街道幸福小区"},
        "submitted_at": "2026-11-23T20:15:00+08:00",
    }
    body.update(overrides)
    return body


async def test_a_submission_lands_once_with_the_openid_masked_and_the_full_one_in_the_vault(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    openid = f"oMP{uid}{uid.lower()}"
    key = f"{ACCOUNT}:mp:MP-{uid}"
    app = create_app(intake_settings(stack))
    async with serve(app) as client:
        answers = await asyncio.gather(*(
            client.post(URL, json=submission(f"MP-{uid}", openid), headers=MINI_KEY) for _ in range(6)))
        assert {a.status_code for a in answers} == {202} and len({a.json()["incident_id"] for a in answers}) == 1
        found = await topics.collect(INTAKE_WECHAT, keyed(key), expect=1, settle=2.0)
        assert len(found) == 1
        event, raw = payload(found[0]), found[0].data.decode()
        assert openid not in raw and "13912345678" not in raw
        assert event["reporter"]["id"] == mask_openid(openid) and event["channel"] == "wechat"
        assert event["source_id"] == key and event["location"]["address"] == "通江区和平街道幸福小区"
        gateway: Gateway = app.state.gateway
        ref = event["reporter"]["contact_ref"]
        assert await gateway.reveal_contact(ref, accessor="callback-desk:OP-0007") == openid
        assert await gateway.reveal_contact("ct_no_such_ref", accessor="callback-desk:OP-0007") is None
    conn = await asyncpg.connect(stack.database_url)
    try:
        reads = await conn.fetch("SELECT purpose, accessor FROM intake.contact_access_log WHERE contact_ref = $1", ref)
        stored = await conn.fetchval("SELECT ciphertext FROM intake.contact_vault WHERE contact_ref = $1", ref)
    finally:
        await conn.close()
    assert [(r["purpose"], r["accessor"]) for r in reads] == [("callback", "callback-desk:OP-0007")]
    assert openid.encode() not in stored  # encrypted at rest


async def test_a_mini_program_request_id_never_collides_with_a_pushed_msg_id(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    """Both live in the wechat channel's ledger; a numeric request id must not take a MsgId's incident."""
    number = str(int(uid, 16))
    async with serve(create_app(intake_settings(stack))) as client:
        mini = await client.post(URL, json=submission(number, f"oMP{uid}xx"), headers=MINI_KEY)
    assert mini.status_code == 202
    assert mini.json()["incident_id"] != incident_id(Channel.WECHAT, f"{ACCOUNT}:{number}")  # a push's id


async def test_refused_submissions_publish_nothing(stack: Stack, uid: str) -> None:
    rid = f"MR-{uid}"
    good = submission(rid, f"oMP{uid}yy")
    async with serve(create_app(intake_settings(stack))) as client:
        unknown_account = await client.post("/v1/wechat/nosuchaccount/submissions", json=good, headers=MINI_KEY)
        other_system = await client.post(URL, json=good, headers=HOTLINE_KEY)
        no_key = await client.post(URL, json=good)
        bad_location = await client.post(URL, json={**good, "location": {"lon": 200, "lat": 32}}, headers=MINI_KEY)
        short_openid = await client.post(URL, json={**good, "openid": "o1"}, headers=MINI_KEY)
    assert unknown_account.status_code == 404 and other_system.status_code == 403 and no_key.status_code == 401
    assert bad_location.status_code == 422
    assert [e["loc"] for e in bad_location.json()["detail"]] == [["body", "location", "lon"]]
    assert short_openid.status_code == 422
    assert await published(stack, INTAKE_WECHAT, keyed(f"{ACCOUNT}:mp:{rid}")) == []
