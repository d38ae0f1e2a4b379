"""WeChat official-account pushes (公众号消息推送): parsing, signature window and text+location pairing.

Pure: no I/O, the clock comes from the caller. wechatpy does the XML parsing and the SHA-1 signature;
this module only decides. See docs/adr/003-wechat-pairing.md for why messages are paired at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from xml.parsers.expat import ExpatError

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from services.intake.domain.credentials import Denied

Kind = Literal["text", "image", "location", "voice", "event", "other"]
_URL = TypeAdapter(AnyHttpUrl)


@dataclass(frozen=True)
class Malformed:
    reason: str  # → 400


@dataclass(frozen=True)
class WechatMessage:
    """One push, reduced to what an incident needs. `msg_id` is empty for events (they carry no MsgId)."""

    kind: Kind
    openid: str  # FromUserName: the citizen
    to_user: str  # ToUserName: the account's original id (gh_…), the reply's sender
    msg_id: str
    created_at: datetime
    text: str | None = None  # Content, or a voice message's Recognition
    pic_url: str | None = None
    lat: float | None = None  # Location_X
    lon: float | None = None  # Location_Y
    label: str | None = None  # the address WeChat resolved for the point
    event: str | None = None

    @property
    def pairs(self) -> bool:
        """Whether the message takes part in an incident (and so is persisted)."""
        return self.kind in ("text", "image", "location") or (self.kind == "voice" and bool(self.text))

    def payload(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> WechatMessage:
        return cls(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


def check_push(
    token: str, signature: str, timestamp: str, nonce: str, now: int, window: int
) -> Denied | None:
    """WeChat's `signature` = sha1(sorted(token, timestamp, nonce)); refused outside ±window (replay)."""
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return Denied(403, "bad WeChat signature")
    return check_window(timestamp, now, window)


def check_window(timestamp: str, now: int, window: int) -> Denied | None:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return Denied(403, "timestamp outside the allowed window (replay?)")
    return None


def parse(xml: str | bytes) -> WechatMessage | Malformed:
    """The push XML → WechatMessage via wechatpy.parse_message; anything it cannot read is Malformed."""
    try:
        msg = parse_message(xml)
        if msg is None:
            return Malformed("empty body")
        openid, to_user, created = str(msg.source or ""), str(msg.target or ""), int(msg.time or 0)
        msg_id = str(msg.id or "")  # wechatpy's MsgId field is an integer (0 when absent)
    except (ExpatError, KeyError, TypeError, AttributeError, ValueError) as exc:
        return Malformed(f"not a WeChat push XML ({type(exc).__name__}: {exc})")
    if not openid or not created:
        return Malformed("FromUserName and CreateTime are required")
    if msg.type in ("text", "image", "location", "voice") and not msg_id:
        return Malformed("MsgId is required")
    base = {"openid": openid, "to_user": to_user, "created_at": datetime.fromtimestamp(created, UTC)}
    return _typed(msg, msg_id, base)


def _typed(msg: Any, msg_id: str, base: dict[str, Any]) -> WechatMessage | Malformed:
    if msg.type == "text":
        text = str(msg.content or "").strip()
        return WechatMessage("text" if text else "other", msg_id=msg_id, text=text or None, **base)
    if msg.type == "voice":
        text = str(msg.recognition or "").strip()
        return WechatMessage("voice", msg_id=msg_id, text=text or None, **base)
    if msg.type == "image":
        try:
            url = str(_URL.validate_python(msg.image))
        except ValidationError:
            return Malformed("PicUrl must be an http(s) URL")
        return WechatMessage("image", msg_id=msg_id, pic_url=url, **base)
    if msg.type == "location":
        try:
            lat, lon = float(msg.location_x), float(msg.location_y)
        except (TypeError, ValueError):
            return Malformed("Location_X and Location_Y must be numbers")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return Malformed("Location_X/Location_Y out of range")
        label = str(msg.label or "").strip()[:500] or None
        return WechatMessage("location", msg_id=msg_id, lat=lat, lon=lon, label=label, **base)
    if msg.type == "event":
        return WechatMessage("event", msg_id="", event=str(getattr(msg, "event", "")) or None, **base)
    return WechatMessage("other", msg_id=msg_id, **base)


# ---- pairing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pending:
    """A stored message still waiting: a lead (text/image/voice) for a location, or a location for a lead."""

    msg_id: str
    kind: Kind
    received_at: datetime
    incident_id: str | None = None
    account: str = ""
    openid: str = ""

    @property
    def is_location(self) -> bool:
        return self.kind == "location"


@dataclass(frozen=True)
class Lead:
    """The message starts an incident; with a waiting location it is complete at once."""

    location_msg_id: str | None = None


@dataclass(frozen=True)
class Attach:
    """The message joins a waiting lead; a location completes it (`ready`), a picture does not."""

    lead_msg_id: str
    incident_id: str
    ready: bool


@dataclass(frozen=True)
class Wait:
    """A location with no text yet: it waits for one within the window."""


Decision = Lead | Attach | Wait


def decide(msg: WechatMessage, waiting: Sequence[Pending], now: datetime, window: timedelta) -> Decision:
    """Pair `msg` with the same citizen's waiting messages: the latest fresh one of the other kind wins."""
    fresh = sorted((p for p in waiting if now - p.received_at <= window and p.msg_id != msg.msg_id),
                   key=lambda p: (p.received_at, p.msg_id))
    leads = [p for p in fresh if not p.is_location and p.incident_id]
    locations = [p for p in fresh if p.is_location]
    if msg.kind == "location":
        if not leads:
            return Wait()
        return Attach(leads[-1].msg_id, leads[-1].incident_id or "", ready=True)
    if msg.kind == "image" and leads:
        return Attach(leads[-1].msg_id, leads[-1].incident_id or "", ready=False)
    return Lead(locations[-1].msg_id if locations else None)


@dataclass(frozen=True)
class Sweep:
    publish: list[Pending] = field(default_factory=list)  # leads whose window passed: text-only incidents
    expire: list[Pending] = field(default_factory=list)  # lone locations: no incident


def sweep(waiting: Sequence[Pending], now: datetime, window: timedelta) -> Sweep:
    """What the flusher does with waiting messages once their window has passed."""
    due = [p for p in waiting if now - p.received_at > window]
    return Sweep(publish=[p for p in due if not p.is_location], expire=[p for p in due if p.is_location])
