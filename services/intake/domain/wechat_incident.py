"""What the citizen reads back (被动回复 passive reply) and the incident a paired conversation becomes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import AnyUrl

from schemas.common import Channel, GeoPoint
from schemas.incident import IncidentReported, Location, Reporter
from services.intake.domain.privacy import mask_openid, scrub_optional, scrub_text
from services.intake.domain.wechat import Attach, Decision, Lead, Wait, WechatMessage

IMAGE_ONLY_TEXT = "（市民通过公众号发送了图片，未附文字说明）"
WELCOME = ("感谢关注！遇到井盖破损、路灯不亮、占道经营等问题，请直接发送文字描述，"
           "再发送位置（点“+”→“位置”），我们会尽快转交处置。")
ASK_FOR_TEXT = "抱歉，暂时无法识别这条语音，请直接输入文字描述您遇到的问题。"
UNSUPPORTED = "暂不支持这类消息，请发送文字、图片或位置描述您遇到的问题。"


def reply_for(msg: WechatMessage, decision: Decision, incident_id: str | None, window_minutes: int) -> str:
    """The passive reply for a message that takes part in pairing (it is stored and replayed on retries)."""
    if isinstance(decision, Lead):
        if decision.location_msg_id:
            return f"已受理，您的事件编号 {incident_id}，已结合您发送的位置转交处置。"
        return (f"已受理，您的事件编号 {incident_id}。可在{window_minutes}分钟内继续发送位置（及图片），"
                "以便快速处置。")
    if isinstance(decision, Attach):
        if decision.ready:
            return f"已收到位置，事件 {decision.incident_id} 已转交处置。"
        return f"已收到图片，已附加到事件 {decision.incident_id}。"
    assert isinstance(decision, Wait)
    return f"已收到您的位置。请在{window_minutes}分钟内用文字描述问题，我们将一并受理。"


def reply_without_incident(msg: WechatMessage) -> str:
    """Events, voice WeChat could not recognise, videos, links…: a friendly answer, no incident."""
    if msg.kind == "event":
        return WELCOME
    if msg.kind == "voice":
        return ASK_FOR_TEXT
    return UNSUPPORTED


def to_incident(
    account: str,
    lead: WechatMessage,
    attached: Sequence[WechatMessage],
    incident_id: str,
    received_at: datetime,
    contact_ref: str | None,
) -> IncidentReported:
    """The lead's text, the last location and every picture, in the order the citizen sent them."""
    points = [(GeoPoint(lat=m.lat, lon=m.lon), m.label) for m in attached
              if m.kind == "location" and m.lat is not None and m.lon is not None]
    point, address = points[-1] if points else (None, None)
    pictures = [m.pic_url for m in (lead, *attached) if m.pic_url]
    return IncidentReported(
        incident_id=incident_id,
        channel=Channel.WECHAT,
        source_id=f"{account}:{lead.msg_id}",
        reporter=Reporter(kind="citizen", id=mask_openid(lead.openid), contact_ref=contact_ref),
        text=scrub_text(lead.text or IMAGE_ONLY_TEXT)[:4000],
        location=Location(point=point, address=scrub_optional(address)),
        attachments=tuple(AnyUrl(u) for u in pictures),
        reported_at=lead.created_at,
        received_at=received_at,
    )
