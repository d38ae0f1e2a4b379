"""Whether sla's escalation decision still fits the case: it was decided for one stage, held by one
owner at one level. A case that moved on since (accepted, re-dispatched, escalated already) ignores it."""

from __future__ import annotations

from schemas.case import Assignment, CaseState
from schemas.common import Level
from schemas.sla import SlaStage
from services.router.domain.lifecycle import WITH_OWNER, WORKING

_STAGE_STATES = {SlaStage.ACCEPT: WITH_OWNER, SlaStage.HANDLE: WORKING}


def stale_because(state: CaseState, held: Assignment, stage: SlaStage, level: Level | None,
                  owner: str | None) -> str | None:
    """Why the decision no longer applies (None: apply it)."""
    states = _STAGE_STATES.get(stage)
    if states is None:
        return f"{stage.value} stages are not escalated"
    if state not in states:
        return f"decided for the {stage.value} stage; the case is {state.value} now"
    if level is not None and level is not held.level:
        return f"decided at level {level.value}; the case is held at {held.level.value} now"
    if owner is not None and owner != held.owner:
        return f"decided for {owner}; the case is held by {held.owner} now"
    return None
