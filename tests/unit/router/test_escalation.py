"""An escalation decided by sla applies only to the stage, owner and level it was decided for."""

from __future__ import annotations

from schemas.case import Assignment, CaseState
from schemas.common import Level
from schemas.sla import SlaStage
from services.router.domain.escalation import stale_because

HELD = Assignment(owner="GRID", owner_unit="G1", level=Level.GRID, grid_id="G1", community_id="C1", street_id="S1")


def test_an_accept_overdue_applies_to_a_case_still_waiting_for_its_owner() -> None:
    assert stale_because(CaseState.DISPATCHED, HELD, SlaStage.ACCEPT, Level.GRID, "GRID") is None


def test_an_accept_overdue_is_stale_once_the_case_was_accepted() -> None:
    assert "accepted now" in str(stale_because(CaseState.ACCEPTED, HELD, SlaStage.ACCEPT, Level.GRID, "GRID"))


def test_a_handle_overdue_is_stale_for_a_case_already_resolved() -> None:
    assert stale_because(CaseState.RESOLVED, HELD, SlaStage.HANDLE, Level.GRID, "GRID") is not None


def test_a_decision_for_a_lower_level_is_stale_after_an_escalation() -> None:
    raised = HELD.model_copy(update={"level": Level.COMMUNITY, "owner": "COMMUNITY", "owner_unit": "C1"})
    assert "level grid" in str(stale_because(CaseState.ESCALATED, raised, SlaStage.ACCEPT, Level.GRID, "GRID"))


def test_a_decision_for_another_owner_is_stale_after_a_redispatch() -> None:
    moved = HELD.model_copy(update={"owner": "URBAN_MGMT", "owner_unit": None})
    assert "held by URBAN_MGMT" in str(
        stale_because(CaseState.DISPATCHED, moved, SlaStage.ACCEPT, Level.GRID, "GRID"))


def test_verification_is_never_escalated() -> None:
    assert stale_because(CaseState.RESOLVED, HELD, SlaStage.VERIFY, Level.GRID, "GRID") is not None
