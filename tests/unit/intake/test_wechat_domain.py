"""WeChat push parsing, signature window and text+location pairing (pure; the clock is injected)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.wechat import (
    Attach,
    Lead,
    Malformed,
    Pending,
    Wait,
    WechatMessage,
    check_push,
    decide,
    parse,
    sweep,
)
from services.intake.domain.wechat_incident import (
    ASK_FOR_TEXT,
    WELCOME,
    reply_for,
    reply_without_incident,
    to_incident,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
OPENID = "oXyZ1234567890abcd"


def push(msg_type: str, body: str, msg_id: str | None = "6054768590064713728") -> str:
    mid = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1795400000</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}{mid}</xml>")


def message(kind: str = "text", msg_id: str = "1", **fields: object) -> WechatMessage:
    return WechatMessage(kind, OPENID, "gh_0123456789ab", msg_id, T0, **fields)  # type: ignore[arg-type]


def pending(msg_id: str, kind: str, at: datetime, incident: str | None = None) -> Pending:
    return Pending(msg_id, kind, at, incident, "tongjiang", OPENID)  # type: ignore[arg-type]


# ---- parsing ---------------------------------------------------------------------------------------

def test_text_message_is_parsed_with_its_msg_id_and_send_time() -> None:
    msg = parse(push("text", "<Content><![CDATA[人民东路井盖破损]]></Content>"))
    assert isinstance(msg, WechatMessage)
    assert (msg.kind, msg.text, msg.openid) == ("text", "人民东路井盖破损", OPENID)
    assert msg.msg_id == "6054768590064713728"
    assert msg.to_user == "gh_0123456789ab"
    assert msg.created_at == datetime.fromtimestamp(1795400000, UTC)
    assert msg.pairs


def test_location_uses_location_x_as_latitude_and_label_as_address() -> None:
    msg = parse(push("location", "<Location_X>32.02</Location_X><Location_Y>120.91</Location_Y>"
                                 "<Scale>15</Scale><Label><![CDATA[通江区人民东路128号]]></Label>"))
    assert isinstance(msg, WechatMessage)
    assert (msg.kind, msg.lat, msg.lon, msg.label) == ("location", 32.02, 120.91, "通江区人民东路128号")


def test_image_keeps_its_picture_url() -> None:
    msg = parse(push("image", "<PicUrl><![CDATA[https://mmbiz.qpic.cn/abc.jpg]]></PicUrl><MediaId>m</MediaId>"))
    assert isinstance(msg, WechatMessage) and msg.pic_url == "https://mmbiz.qpic.cn/abc.jpg" and msg.pairs


def test_voice_with_recognition_reads_as_text_and_without_it_asks_to_type() -> None:
    heard = parse(push("voice", "<MediaId>m</MediaId><Recognition>路灯不亮</Recognition>"))
    silent = parse(push("voice", "<MediaId>m</MediaId><Format>amr</Format>"))
    assert isinstance(heard, WechatMessage) and heard.text == "路灯不亮" and heard.pairs
    assert isinstance(silent, WechatMessage) and not silent.pairs
    assert reply_without_incident(silent) == ASK_FOR_TEXT


def test_subscribe_event_needs_no_msg_id_and_gets_a_welcome() -> None:
    msg = parse(push("event", "<Event><![CDATA[subscribe]]></Event>", msg_id=None))
    assert isinstance(msg, WechatMessage) and msg.kind == "event" and not msg.pairs
    assert reply_without_incident(msg) == WELCOME


@pytest.mark.parametrize("xml", [
    "", "not xml at all", "<xml><ToUserName>a</ToUserName>", "<root><MsgType>text</MsgType></root>",
    "<xml>just text</xml>", "<xml><FromUserName>o</FromUserName></xml>",
    push("text", "<Content>x</Content>", msg_id=None),
    push("text", "<Content>x</Content>", msg_id="not-a-number"),
    push("location", "<Location_X>north</Location_X><Location_Y>120.9</Location_Y>"),
    push("location", "<Location_X>132.0</Location_X><Location_Y>120.9</Location_Y>"),
    push("image", "<PicUrl>javascript:alert(1)</PicUrl>"),
])
def test_unreadable_pushes_are_malformed_with_a_reason(xml: str) -> None:
    result = parse(xml)
    assert isinstance(result, Malformed) and result.reason


# ---- signature window ------------------------------------------------------------------------------

def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def test_signature_is_checked_and_old_timestamps_are_replays() -> None:
    now = 1_795_400_000
    ok = sign("tok", str(now), "n1")
    assert check_push("tok", ok, str(now), "n1", now + 10, 300) is None
    assert check_push("tok", ok, str(now), "n2", now, 300).status == 403  # type: ignore[union-attr]
    stale = sign("tok", str(now - 301), "n1")
    denied = check_push("tok", stale, str(now - 301), "n1", now, 300)
    assert denied is not None and denied.status == 403 and "replay" in denied.reason


# ---- pairing ---------------------------------------------------------------------------------------

def test_a_text_with_nothing_waiting_leads_and_waits_for_a_location() -> None:
    assert decide(message("text", text="井盖破损"), [], T0, WINDOW) == Lead(None)


def test_a_location_within_the_window_completes_the_citizens_latest_text() -> None:
    waiting = [pending("1", "text", T0, "WX-A"), pending("2", "text", T0 + timedelta(minutes=1), "WX-B")]
    decision = decide(message("location", "3"), waiting, T0 + timedelta(minutes=4), WINDOW)
    assert decision == Attach("2", "WX-B", ready=True)


def test_a_location_after_the_window_waits_for_a_new_text() -> None:
    waiting = [pending("1", "text", T0, "WX-A")]
    assert decide(message("location", "3"), waiting, T0 + WINDOW + timedelta(seconds=1), WINDOW) == Wait()


def test_a_location_first_is_taken_by_the_text_that_follows_within_the_window() -> None:
    waiting = [pending("9", "location", T0)]
    assert decide(message("text", "10"), waiting, T0 + timedelta(minutes=3), WINDOW) == Lead("9")
    assert decide(message("text", "10"), waiting, T0 + timedelta(minutes=6), WINDOW) == Lead(None)


def test_a_picture_joins_a_waiting_text_without_completing_it_and_leads_otherwise() -> None:
    waiting = [pending("1", "text", T0, "WX-A")]
    later = T0 + timedelta(minutes=1)
    assert decide(message("image", "2"), waiting, later, WINDOW) == Attach("1", "WX-A", ready=False)
    assert decide(message("image", "2"), [], T0, WINDOW) == Lead(None)


def test_the_flusher_publishes_expired_texts_and_drops_lone_locations() -> None:
    old_text, old_location = pending("1", "text", T0, "WX-A"), pending("2", "location", T0)
    fresh = pending("3", "text", T0 + timedelta(minutes=4), "WX-C")
    plan = sweep([old_text, old_location, fresh], T0 + WINDOW + timedelta(seconds=1), WINDOW)
    assert plan.publish == [old_text] and plan.expire == [old_location]
    assert sweep([old_text, fresh], T0 + WINDOW, WINDOW).publish == []  # exactly at the edge: still open


# ---- the incident and the reply --------------------------------------------------------------------

def test_text_and_location_become_one_incident_with_a_masked_openid() -> None:
    text = message("text", "1", text="井盖破损，电话13812345678")
    where = message("location", "2", lat=32.02, lon=120.91, label="人民东路128号")
    photo = message("image", "3", pic_url="https://mmbiz.qpic.cn/a.jpg")
    event = to_incident("tongjiang", text, [where, photo], "WX-1", T0, "ct_ref")
    point = event.location.point
    assert point is not None and (point.lat, point.lon) == (32.02, 120.91)
    assert event.location.address == "人民东路128号"
    assert [str(u) for u in event.attachments] == ["https://mmbiz.qpic.cn/a.jpg"]
    assert event.reporter.id == "oXyZ***abcd" and event.reporter.contact_ref == "ct_ref"
    assert "13812345678" not in event.text and event.source_id == "tongjiang:1"


def test_the_reply_gives_the_citizen_the_tracking_number() -> None:
    first = reply_for(message(), Lead(None), "WX-1", 5)
    assert "WX-1" in first and "位置" in first
    assert "WX-1" in reply_for(message("location"), Attach("1", "WX-1", True), "WX-1", 5)
    assert "5分钟" in reply_for(message("location"), Wait(), None, 5)
