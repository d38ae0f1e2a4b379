"""SLA events on `sla.events.v1` (sla is the only writer), keyed by case id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from schemas.common import Contract, Level


class SlaStage(StrEnum):
    ACCEPT = "accept"  # 签收时限
    HANDLE = "handle"  # 办结时限
    VERIFY = "verify"  # 核查时限: the grid (or the centre) checks the work after it is resolved


class SlaEventKind(StrEnum):
    DEADLINE_SET = "deadline_set"
    WARNED = "warned"  # 预警: most of the time used
    OVERDUE = "overdue"  # 超期
    ESCALATION_DECIDED = "escalation_decided"  # router raises the level and reassigns
    MET = "met"  # stage finished within its limit


class SlaEvent(Contract):
    event_id: str
    case_id: str
    kind: SlaEventKind
    stage: SlaStage
    deadline: datetime | None = None
    at: datetime
    owner: str | None = None
    level: Level | None = None
    to_level: Level | None = Field(default=None, description="escalation_decided: the next rung")
    document: str | None = Field(
        default=None,
        description="escalation paperwork: risk_warning_letter | accountability_letter | supervision_order",
    )
    document_id: str | None = Field(default=None, description="escalation_decided: the document issued, e.g. "
                                                              "TJ-2026-DB-0007 (GET /v1/sla/documents/{id})")
    document_no: str | None = Field(default=None, description="its printed number, e.g. 通江督〔2026〕7号")
    document_text: str | None = Field(default=None, description="its plain text")
    reason: str | None = None
    calendar_version: str | None = None
    warn_share: float | None = Field(default=None, description="warned: the share of the stage's time used")
    rung: int = Field(default=0, description="escalations the case has had when this stage started (0: none)")
    provisional: bool = Field(
        default=False, description="the deadline reaches into a year without official calendar data; "
                                   "it is recomputed (a new deadline_set) when the data arrives")
