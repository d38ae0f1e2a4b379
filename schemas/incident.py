"""The normalised incident (事件/诉求) that every intake adapter writes to its `intake.*.v1` topic."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AnyUrl, Field

from schemas.common import Channel, Contract, GeoPoint, Urgency


class AppealType(StrEnum):
    """12345 appeal types."""

    ENQUIRY = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉"
    REPORT = "举报"
    SUGGESTION = "建议"


class Reporter(Contract):
    """Who reported. Contacts are masked here; the full contact stays in intake's callback vault."""

    kind: str = Field(description="citizen | grid_worker | operator | system", examples=["citizen"])
    id: str | None = Field(default=None, description="worker id, masked openid or operator id")
    name: str | None = Field(default=None, description="masked name, e.g. 张*")
    contact_masked: str | None = Field(default=None, examples=["138****5678"])
    contact_ref: str | None = Field(
        default=None, description="opaque reference to the full contact in intake's vault (for callbacks)"
    )


class Location(Contract):
    """Where it happened: a point, an address, or both; the grid when the reporter knows it."""

    point: GeoPoint | None = None
    address: str | None = Field(default=None, max_length=500)
    grid_id: str | None = None


class OnTheSpot(Contract):
    """自行处置: a grid worker handled it on the spot; the case is created and closed at once."""

    handled: bool = True
    evidence_urls: tuple[AnyUrl, ...] = ()
    note: str | None = None


class IncidentReported(Contract):
    """`gov.gridline.incident.reported.v1` on intake.hotline.v1 / intake.grid.v1 / intake.wechat.v1."""

    incident_id: str = Field(description="Gridline incident id, stable across retries (idempotency)")
    channel: Channel
    source_id: str = Field(description="the source's natural id: ticket no., report id, MsgId, request id")
    reporter: Reporter
    text: str = Field(min_length=1, max_length=4000)
    category_hint: str | None = Field(default=None, description="free-text category or responsibility item")
    category_code: str | None = Field(default=None, description="responsibility item code (grid reports)")
    appeal_type: AppealType | None = None
    location: Location
    attachments: tuple[AnyUrl, ...] = ()
    urgency: Urgency = Urgency.NORMAL
    on_the_spot: OnTheSpot | None = None
    reported_at: datetime
    received_at: datetime
