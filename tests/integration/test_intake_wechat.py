"""WeChat official-account push adapter against the real broker and database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from deploy.local.stack import Stack
from schemas.cloudevents import Envelope
from schemas.topics import INTAKE_WECHAT
from services.intake.app import create_app
from services.intake.domain.privacy import mask_openid
from services.intake.settings import IntakeSettings
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_support import intake_settings

pytestmark = pytest.mark.integration
ACCOUNT = "tongjiang"
XML = {"Content-Type": "text/xml"}


def account(settings: IntakeSettings) -> Any:
    return settings.wechat_accounts[ACCOUNT]


def signed(token: str, timestamp: int | None = None, nonce: str = "nonce1") -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": ts, "nonce": nonce}


def push(openid: str, msg_id: int, msg_type: str, body: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_tongjiang01]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]>"
            f"</MsgType>{body}<MsgId>{msg_id}</MsgId></xml>")


def text(openid: str, msg_id: int, content: str = "人民东路128号井盖破损，晚上很危险") -> str:
    return push(openid, msg_id, "text", f"<Content><![CDATA[{content}]]></Content>")


def location(openid: str, msg_id: int) -> str:
    return push(openid, msg_id, "location", "<Location_X>32.0201</Location_X><Location_Y>120.9102</Location_Y>"
                "<Scale>16</Scale><Label><![CDATA[通江区人民东路128号]]></Label>")


def content(reply: httpx.Response) -> str:
    assert reply.status_code == 200, reply.text
    return str(xmltodict.parse(reply.text)["xml"]["Content"])


async def send(client: httpx.AsyncClient, settings: IntakeSettings, xml: str) -> httpx.Response:
    return await client.post(f"/v1/wechat/{ACCOUNT}", params=signed(account(settings).token),
                             content=xml.encode(), headers=XML)


def ids(uid: str) -> tuple[str, int]:
    """A unique openid (its masked form too) and MsgId base per test."""
    return uid + uid.lower(), int(uid, 16) * 100


async def events_of(topics: TopicReader, openid: str, expect: int = 1, wait: float = 30.0) -> list[Envelope]:
    masked = mask_openid(openid)
    return await topics.collect(INTAKE_WECHAT, lambda e: json.loads(e.data)["reporter"]["id"] == masked,
                                expect=expect, timeout=wait, settle=2.0)


async def test_url_verification_echoes_echostr_only_for_the_accounts_signature(stack: Stack) -> None:
    settings = intake_settings(stack)
    async with serve(create_app(settings)) as client:
        ok = await client.get(f"/v1/wechat/{ACCOUNT}", params={**signed(account(settings).token), "echostr": "e42"})
        bad = await client.get(f"/v1/wechat/{ACCOUNT}", params={**signed("not-the-token"), "echostr": "e42"})
        unknown = await client.get("/v1/wechat/nosuchaccount", params={**signed("x"), "echostr": "e42"})
    assert ok.status_code == 200 and ok.text == "e42" and ok.headers["content-type"].startswith("text/plain")
    assert bad.status_code == 403 and unknown.status_code == 404


async def test_plain_text_gets_a_tracking_number_and_one_event_once_its_window_passes(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    openid, msg_id = ids(uid)
    app = create_app(settings)
    async with serve(app) as client:
        reply = await send(client, settings, text(openid, msg_id, "路灯不亮，电话13812345678"))
        assert await events_of(topics, openid, wait=1.0) == []  # still waiting for a location
        flusher = app.state.wechat_flusher
        assert await flusher.flush_due(datetime.now(UTC) + timedelta(seconds=settings.wechat_pairing_seconds + 1))
    said = content(reply)
    assert "已受理" in said and "WX-" in said
    found = await events_of(topics, openid)
    assert len(found) == 1
    event = json.loads(found[0].data)
    assert event["incident_id"] in said and event["location"]["point"] is None
    assert event["source_id"] == f"{ACCOUNT}:{msg_id}" and found[0].key == f"{ACCOUNT}:{msg_id}"
    assert openid not in found[0].data.decode() and "13812345678" not in found[0].data.decode()
    assert event["reporter"]["contact_ref"].startswith("ct_")


async def test_text_then_location_within_the_window_is_one_incident_with_text_and_point(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    openid, msg_id = ids(uid)
    async with serve(create_app(settings)) as client:
        first = content(await send(client, settings, text(openid, msg_id)))
        second = content(await send(client, settings, location(openid, msg_id + 1)))
    found = await events_of(topics, openid)
    assert len(found) == 1
    event = json.loads(found[0].data)
    assert event["incident_id"] in first and event["incident_id"] in second
    assert event["text"].startswith("人民东路128号井盖破损")
    assert event["location"] == {"point": {"lon": 120.9102, "lat": 32.0201}, "address": "通江区人民东路128号",
                                 "grid_id": None}


async def test_wechat_retries_of_a_msg_id_get_the_same_reply_and_publish_nothing_new(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    openid, msg_id = ids(uid)
    async with serve(create_app(settings)) as client:
        texts = [content(r) for r in await asyncio.gather(*(
            send(client, settings, text(openid, msg_id)) for _ in range(4)))]
        texts.append(content(await send(client, settings, text(openid, msg_id))))
        places = [content(await send(client, settings, location(openid, msg_id + 1))) for _ in range(3)]
    assert len(set(texts)) == 1 and len(set(places)) == 1
    found = await events_of(topics, openid)
    assert len(found) == 1 and json.loads(found[0].data)["incident_id"] in texts[0]


async def test_safe_mode_messages_are_decrypted_and_the_reply_is_encrypted(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    acct = account(settings)
    crypto = WeChatCrypto(acct.token, acct.encoding_aes_key, acct.app_id)
    openid, msg_id = ids(uid)

    async def send_safe(client: httpx.AsyncClient, xml: str) -> str:
        ts, nonce = str(int(time.time())), f"n{uid}"
        sealed = crypto.encrypt_message(xml, nonce, ts)
        params = {**signed(acct.token, int(ts), nonce), "encrypt_type": "aes",
                  "msg_signature": xmltodict.parse(sealed)["xml"]["MsgSignature"]}
        reply = await client.post(f"/v1/wechat/{ACCOUNT}", params=params, content=sealed.encode(), headers=XML)
        assert reply.status_code == 200, reply.text
        outer = xmltodict.parse(reply.text)["xml"]
        inner = crypto.decrypt_message(reply.text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return str(xmltodict.parse(inner)["xml"]["Content"])

    async with serve(create_app(settings)) as client:
        first = await send_safe(client, text(openid, msg_id))
        second = await send_safe(client, location(openid, msg_id + 1))
    assert "已受理" in first and "WX-" in first and "已收到位置" in second
    found = await events_of(topics, openid)
    assert len(found) == 1 and json.loads(found[0].data)["location"]["point"]["lat"] == 32.0201


async def test_a_waiting_text_survives_a_restart_and_is_published_by_the_next_flusher(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    openid, msg_id = ids(uid)
    async with serve(create_app(settings)) as client:
        said = content(await send(client, settings, text(openid, msg_id)))
    app = create_app(settings)  # a new process: only PostgreSQL remembers the waiting text
    async with serve(app):
        await app.state.wechat_flusher.flush_due(
            datetime.now(UTC) + timedelta(seconds=settings.wechat_pairing_seconds + 1))
    found = await events_of(topics, openid)
    assert len(found) == 1 and json.loads(found[0].data)["incident_id"] in said


async def test_a_lone_location_expires_without_an_incident(stack: Stack, topics: TopicReader, uid: str) -> None:
    settings = intake_settings(stack)
    openid, msg_id = ids(uid)
    app = create_app(settings)
    async with serve(app) as client:
        said = content(await send(client, settings, location(openid, msg_id)))
        flusher = app.state.wechat_flusher
        await flusher.flush_due(datetime.now(UTC) + timedelta(seconds=settings.wechat_pairing_seconds + 1))
        later = content(await send(client, settings, text(openid, msg_id + 1)))
    assert "文字描述" in said and "继续发送位置" in later  # the expired location was not taken
    assert await events_of(topics, openid, wait=3.0) == []


async def test_refused_pushes_publish_nothing(stack: Stack, topics: TopicReader, uid: str) -> None:
    settings = intake_settings(stack, max_body_bytes=4096)
    token = account(settings).token
    openid, msg_id = ids(uid)
    good = text(openid, msg_id).encode()
    url = f"/v1/wechat/{ACCOUNT}"
    app = create_app(settings)
    async with serve(app) as client:
        bad_sig = await client.post(url, params=signed("wrong-token"), content=good, headers=XML)
        replay = await client.post(url, params=signed(token, int(time.time()) - 3600), content=good, headers=XML)
        unsigned = await client.post(url, content=good, headers=XML)
        malformed = await client.post(url, params=signed(token), content=b"<xml><MsgType>text", headers=XML)
        not_wechat = await client.post(url, params=signed(token), content=b"<note>hi</note>", headers=XML)
        oversize = await client.post(url, params=signed(token), headers=XML,
                                     content=text(openid, msg_id + 1, "长" * 5000).encode())
        unknown = await client.post("/v1/wechat/nosuchaccount", params=signed(token), content=good, headers=XML)
        as_json = await client.post(url, params=signed(token), content=good,
                                    headers={"Content-Type": "application/json"})
        safe_bad = await client.post(url, params={**signed(token), "encrypt_type": "aes", "msg_signature": "0" * 40},
                                     content=b"<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>", headers=XML)
        flusher = app.state.wechat_flusher
        await flusher.flush_due(datetime.now(UTC) + timedelta(seconds=settings.wechat_pairing_seconds + 1))
    assert [bad_sig.status_code, replay.status_code, unsigned.status_code] == [403, 403, 403]
    assert "replay" in replay.json()["detail"]
    assert malformed.status_code == 400 and not_wechat.status_code == 400 and malformed.json()["detail"]
    assert oversize.status_code == 413 and unknown.status_code == 404 and as_json.status_code == 415
    assert safe_bad.status_code == 403
    assert await events_of(topics, openid, wait=3.0) == []
