"""Case and SLA events as the router and sla would write them, for scoring's tests (unit and integration)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState
from schemas.common import Channel, Level
from schemas.sla import SlaEvent, SlaEventKind, SlaStage


def assignment(owner: str, *, level: Level = Level.DISTRICT, community: str | None = "COMM1",
               street: str | None = "ST1", grid: str | None = "G1") -> Assignment:
    return Assignment(owner=owner, level=level, grid_id=grid, community_id=community, street_id=street,
                      item_code="A01", item_name="井盖破损")


def case_event(case_id: str, seq: int, kind: CaseEventKind, at: datetime, *, state: CaseState | None = None,
               actor: str = "router", assigned: Assignment | None = None, reporter: str | None = None,
               **extra: Any) -> CaseEvent:
    explanation = {"reporter": {"kind": "grid_worker", "id": reporter}} if reporter else None
    return CaseEvent(
        event_id="CE-" + hashlib.blake2b(f"{case_id}#{seq}".encode(), digest_size=10).hexdigest(),
        case_id=case_id, kind=kind, state=state or CaseState.DISPATCHED, seq=seq, at=at, actor=actor,
        channel=Channel.GRID if reporter else Channel.HOTLINE, assignment=assigned, explanation=explanation,
        **extra,
    )


def sla_event(case_id: str, kind: SlaEventKind, stage: SlaStage, at: datetime, owner: str) -> SlaEvent:
    return SlaEvent(event_id=f"SLA-{case_id}-{stage.value}-{kind.value}-{owner}", case_id=case_id, kind=kind,
                    stage=stage, at=at, owner=owner)
