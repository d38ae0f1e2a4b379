"""Case lifecycle events on `case.events.v1` (router is the only writer), keyed by case id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from schemas.common import Channel, Contract, GeoPoint, Level, Urgency


class CaseState(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    RETURNED = "returned"
    ESCALATED = "escalated"
    MERGED = "merged"
    SUSPENDED = "suspended"
    EXTENDED = "extended"
    REOPENED = "reopened"
    REJECTED = "rejected"
    MANUAL = "manual"  # 人工分拨: waiting in the command centre's manual queue
    ARBITRATION = "arbitration"  # 仲裁: disputed by two returns, the centre decides


class CaseEventKind(StrEnum):
    """What happened; `ce_type` is `gov.gridline.case.<kind>.v1`."""

    CREATED = "created"
    DISPATCHED = "dispatched"
    QUEUED_MANUAL = "queued_manual"
    ACCEPTED = "accepted"
    PROGRESSED = "progressed"
    RETURNED = "returned"
    ARBITRATION_REQUESTED = "arbitration_requested"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    REOPENED = "reopened"
    RATED = "rated"
    CLOSED = "closed"
    ESCALATED = "escalated"
    MERGED = "merged"
    REPEAT_REPORTED = "repeat_reported"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENDED = "extended"
    REJECTED = "rejected"
    ACTION_REFUSED = "action_refused"
    ANSWERED = "answered"  # 直接答复: an enquiry answered by the centre from the knowledge base; state → closed


class Assignment(Contract):
    """Who holds the case now, at which level, in which place."""

    owner: str = Field(description="department code, or GRID/COMMUNITY/STREET resolved to a place id")
    owner_unit: str | None = Field(default=None, description="grid/community/street id for locational owners")
    level: Level
    item_code: str | None = None
    item_name: str | None = None
    grid_id: str | None = None
    community_id: str | None = None
    street_id: str | None = None
    assisting: tuple[str, ...] = Field(
        default=(),
        description="协办 assisting departments (owner codes); `owner` is the lead (主办), who resolves and on "
                    "whom the SLA runs. Count assistance from `dispatched` events (later events repeat it).",
    )


class AnswerRef(Contract):
    """Which knowledge-base answer closed an enquiry (直接答复), on `answered` events."""

    entry_id: str = Field(description="knowledge-base entry id", examples=["KB-A01-parking-fees"])
    source: str = Field(description="where the answer comes from (policy document, department notice)")
    valid_from: str | None = Field(default=None, description="ISO date the answer is valid from")
    valid_until: str | None = Field(default=None, description="ISO date the answer is valid until (inclusive)")
    text: str = Field(description="the answer given to the citizen")


class Deadlines(Contract):
    """Limits from the responsibility item. `clock` says whether they count working time."""

    accept_within: str | None = Field(default=None, examples=["2h"])
    handle_within: str | None = Field(default=None, examples=["3wd"])
    clock: str = Field(default="working", description="working | natural")
    escalation: tuple[Level, ...] = ()
    rung_limits: dict[Level, str] = Field(
        default_factory=dict, examples=[{"street": "2d", "supervision": "5wd"}],
        description="the item's handle limit on each rung of its ladder once escalated (on `clock`); a rung "
                    "not named runs on sla's district table")


class ReporterRef(Contract):
    """Who reported the incident (masked ids only): grid workers are scored on what they report."""

    kind: str = Field(description="citizen | grid_worker | operator | system")
    id: str | None = None


class ReturnRuling(Contract):
    """仲裁 outcome for one 退单: the centre either agrees the department was not responsible (justified:
    the case went elsewhere) or sends the case back to it (unjustified). Assessments count only
    unjustified returns; a return not yet ruled on counts as unjustified."""

    department: str = Field(description="the owner that returned the case")
    returned_seq: int = Field(ge=1, description="seq of the `returned` event this rules on")
    returned_at: datetime = Field(description="when it was returned: the return counts in that month")
    justified: bool


class CaseEvent(Contract):
    """One transition of one case: who, when, why, and the list version that decided it."""

    event_id: str
    case_id: str
    kind: CaseEventKind
    state: CaseState = Field(description="state after the event")
    previous_state: CaseState | None = None
    seq: int = Field(ge=1, description="per-case sequence number, gapless")
    at: datetime
    actor: str = Field(description="router | department code | worker id | CENTER:<operator> | sla")
    reason: str | None = None
    list_version: str | None = Field(default=None, description="responsibility list version that decided")
    model_version: str | None = Field(default=None, description="classifier model version that decided (beside "
                                      "the list version); None when no model took part")
    channel: Channel | None = None
    urgency: Urgency = Field(default=Urgency.NORMAL, description="urgent/critical cases run on tighter clocks")
    incident_id: str | None = None
    assignment: Assignment | None = None
    deadlines: Deadlines | None = None
    point: GeoPoint | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    merged_into: str | None = None
    extension_hours: int | None = Field(default=None, description="extended: hours added to the handle limit")
    evidence_urls: tuple[str, ...] = ()
    on_the_spot: bool = False
    explanation: dict[str, object] | None = Field(default=None, description="routing explanation")
    answer: AnswerRef | None = Field(default=None, description="on `answered`: the knowledge-base answer given")
    reporter: ReporterRef | None = Field(default=None, description="on `created` and `repeat_reported`")
    return_rulings: tuple[ReturnRuling, ...] = Field(
        default=(), description="on `dispatched` after 仲裁: a ruling for every return since the previous one")
