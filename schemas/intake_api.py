"""Request bodies of intake's HTTP API (the adapters' public contract; see services/intake/README.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from schemas.action import ActionKind
from schemas.common import GeoPoint, Urgency
from schemas.incident import AppealType


class Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class HotlineTicket(Request):
    """A 12345 ticket as the hotline system's operator (坐席员) typed it."""

    ticket_no: str = Field(pattern=r"^[A-Za-z0-9\-_]{4,64}$", examples=["12345-20261123-000187"])
    call_time: datetime = Field(examples=["2026-11-23T09:15:00+08:00"])
    caller_name: str | None = Field(default=None, max_length=50, examples=["王建国"])
    caller_phone: str | None = Field(default=None, pattern=r"^[0-9+\-\s]{5,20}$", examples=["13812345678"])
    appeal_type: AppealType = Field(examples=["投诉"])
    urgency: Urgency = Urgency.NORMAL
    text: str = Field(min_length=2, max_length=4000, examples=["人民东路128号门口井盖破损，晚上很危险，请尽快处理"])
    address: str | None = Field(default=None, max_length=500, examples=["通江区和平街道人民东路128号"])
    point: GeoPoint | None = None
    operator_id: str = Field(min_length=1, max_length=64, examples=["OP-0231"])
    category_hint: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _needs_a_place(self) -> HotlineTicket:
        if self.address is None and self.point is None and self.appeal_type not in (
            AppealType.ENQUIRY, AppealType.SUGGESTION
        ):
            raise ValueError("a ticket needs an address or a point (咨询/建议 may have neither)")
        return self


class HotlineBatch(Request):
    tickets: list[HotlineTicket] = Field(min_length=1, max_length=500)


class GridReport(Request):
    """A report from the grid workers' app (全要素网格通)."""

    report_id: str = Field(pattern=r"^[A-Za-z0-9\-_]{4,64}$", examples=["GR-TJ0101-20261123-0007"])
    worker_id: str = Field(pattern=r"^[A-Za-z0-9\-_]{1,64}$", examples=["GW0001"])
    grid_id: str = Field(min_length=1, max_length=64)
    category_code: str = Field(min_length=1, max_length=32, examples=["A01.003"])
    point: GeoPoint
    photo_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)
    text: str = Field(min_length=2, max_length=4000)
    handled_on_spot: bool = Field(default=False, description="自行处置: fixed on the spot")
    evidence_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)
    urgency: Urgency = Urgency.NORMAL
    reported_at: datetime

    @model_validator(mode="after")
    def _evidence_for_on_the_spot(self) -> GridReport:
        if self.handled_on_spot and not self.evidence_urls:
            raise ValueError("handled_on_spot needs evidence_urls (photos after handling)")
        return self


class MiniProgramLocation(Request):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    address: str | None = Field(default=None, max_length=500)


class MiniProgramSubmission(Request):
    """A submission from the WeChat mini program (掌上云社区)."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9\-_]{4,64}$")
    openid: str = Field(min_length=6, max_length=64)
    text: str = Field(min_length=2, max_length=4000)
    photos: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)
    location: MiniProgramLocation | None = None
    submitted_at: datetime


class CaseActionRequest(Request):
    """What a department (or the centre, or a citizen's callback) did on a case."""

    action_id: str = Field(pattern=r"^[A-Za-z0-9\-_:.]{4,80}$", description="idempotency key")
    kind: ActionKind
    actor: str = Field(min_length=1, max_length=80, examples=["URBAN_MGMT"])
    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    evidence_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)
    passed: bool | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    extension_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    target: str | None = Field(default=None, max_length=80)
    taken_at: datetime

    @model_validator(mode="after")
    def _fields_each_kind_needs(self) -> CaseActionRequest:
        needs = {
            ActionKind.RETURN: ("reason",),
            ActionKind.RESOLVE: ("evidence_urls",),
            ActionKind.VERIFY: ("passed",),
            ActionKind.RATE: ("satisfaction",),
            ActionKind.REQUEST_EXTENSION: ("extension_hours", "reason"),
            ActionKind.SUSPEND: ("reason",),
            ActionKind.ARBITRATE: ("target",),
            ActionKind.DISPATCH: ("target",),
            ActionKind.REJECT: ("reason",),
        }.get(self.kind, ())
        missing = [f for f in needs if getattr(self, f) in (None, [], "")]
        if missing:
            raise ValueError(f"action {self.kind.value} needs {', '.join(missing)}")
        return self


class Accepted(BaseModel):
    """202: durable on Kafka. `duplicate` is true when this natural id was already accepted."""

    incident_id: str
    duplicate: bool = False
    topic: str


class ItemResult(BaseModel):
    index: int
    status: int
    incident_id: str | None = None
    duplicate: bool = False
    error: str | None = None


class BatchResult(BaseModel):
    accepted: int
    failed: int
    results: list[ItemResult]
