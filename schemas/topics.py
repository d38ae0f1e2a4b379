"""Topic names (public contracts, see ARCHITECTURE.md) and the event types each one carries."""

from __future__ import annotations

from typing import Final

from schemas.action import ActionTaken
from schemas.case import CaseEvent
from schemas.common import Contract
from schemas.incident import IncidentReported
from schemas.score import ScoreCard
from schemas.sla import SlaEvent

INTAKE_HOTLINE: Final = "intake.hotline.v1"
INTAKE_GRID: Final = "intake.grid.v1"
INTAKE_WECHAT: Final = "intake.wechat.v1"
INTAKE_ACTIONS: Final = "intake.actions.v1"
CASE_EVENTS: Final = "case.events.v1"
SLA_EVENTS: Final = "sla.events.v1"
SCORING: Final = "scoring.v1"

CASE_KEYED: Final = (CASE_EVENTS, SLA_EVENTS, INTAKE_ACTIONS)  # key and subject: the case id

INCIDENT_REPORTED: Final = "gov.gridline.incident.reported.v1"
ACTION_TAKEN: Final = "gov.gridline.action.taken.v1"
SCORE_CARD: Final = "gov.gridline.score.card_computed.v1"
SCORE_CARD_REMOVED: Final = "gov.gridline.score.card_removed.v1"  # a tombstone (null value) on scoring.v1


def case_type(kind: str) -> str:
    return f"gov.gridline.case.{kind}.v1"


def sla_type(kind: str) -> str:
    return f"gov.gridline.sla.{kind}.v1"


def dlq(topic: str) -> str:
    """Dead-letter topic of an input topic."""
    return f"{topic}.dlq"


# topic → (payload model, writer, key description)
CATALOGUE: Final[dict[str, tuple[type[Contract], str, str]]] = {
    INTAKE_HOTLINE: (IncidentReported, "intake", "ticket number"),
    INTAKE_GRID: (IncidentReported, "intake", "report id"),
    INTAKE_WECHAT: (IncidentReported, "intake", "account:MsgId or request id"),
    INTAKE_ACTIONS: (ActionTaken, "intake", "case id"),
    CASE_EVENTS: (CaseEvent, "router", "case id"),
    SLA_EVENTS: (SlaEvent, "sla", "case id"),
    SCORING: (ScoreCard, "scoring", "{period}:{entity_type}:{entity_id}@{ruler_version} (compacted; each ruler "
              "version in effect for a month has its own cards; headers gridline_computed_at, gridline_span_links)"),
}
