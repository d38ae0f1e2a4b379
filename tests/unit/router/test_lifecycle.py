"""The case state machine, as a specification (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.action import ActionKind, ActionTaken
from schemas.case import CaseEventKind, CaseState, ReturnRuling
from services.router.domain.lifecycle import CaseView, Outcome, Refusal, Returned, apply, rule_returns

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def view(state: CaseState, **kw: Any) -> CaseView:
    return CaseView(state=state, owner=kw.pop("owner", "URBAN_MGMT"), owner_unit=kw.pop("owner_unit", None),
                    grid_id=kw.pop("grid_id", "TJ-01-01-001"), grid_worker=kw.pop("grid_worker", "GW0001"), **kw)


def action(kind: ActionKind, actor: str = "URBAN_MGMT", **kw: Any) -> ActionTaken:
    return ActionTaken(action_id="a1", case_id="C-1", kind=kind, actor=actor, taken_at=AT, **kw)


def kinds(result: Outcome | Refusal) -> list[CaseEventKind]:
    assert isinstance(result, Outcome), result
    return [t.kind for t in result.transitions]


def test_owner_accepts_a_dispatched_case() -> None:
    assert kinds(apply(view(CaseState.DISPATCHED), action(ActionKind.ACCEPT))) == [CaseEventKind.ACCEPTED]


def test_someone_else_cannot_accept() -> None:
    result = apply(view(CaseState.DISPATCHED), action(ActionKind.ACCEPT, actor="HOUSING"))
    assert isinstance(result, Refusal) and "not the case owner" in result.reason


def test_resolving_before_accepting_is_refused_with_a_reason() -> None:
    result = apply(view(CaseState.DISPATCHED), action(ActionKind.RESOLVE, evidence_urls=["https://e.org/1.jpg"]))
    assert isinstance(result, Refusal) and "accepted case" in result.reason


def test_first_return_with_a_candidate_left_redispatches() -> None:
    result = apply(view(CaseState.DISPATCHED, has_next_candidate=True), action(ActionKind.RETURN, reason="不归我们"))
    assert isinstance(result, Outcome) and result.redispatch
    assert kinds(result) == [CaseEventKind.RETURNED]


def test_second_return_goes_to_arbitration() -> None:
    result = apply(view(CaseState.DISPATCHED, returns=1, has_next_candidate=True),
                   action(ActionKind.RETURN, reason="也不归我们"))
    assert kinds(result) == [CaseEventKind.RETURNED, CaseEventKind.ARBITRATION_REQUESTED]
    assert isinstance(result, Outcome) and not result.redispatch


def test_return_with_no_candidate_left_goes_to_arbitration() -> None:
    result = apply(view(CaseState.DISPATCHED), action(ActionKind.RETURN, reason="x"))
    assert kinds(result)[-1] is CaseEventKind.ARBITRATION_REQUESTED


def test_only_the_centre_arbitrates() -> None:
    assert isinstance(apply(view(CaseState.ARBITRATION), action(ActionKind.ARBITRATE, target="POWER")), Refusal)
    result = apply(view(CaseState.ARBITRATION), action(ActionKind.ARBITRATE, actor="CENTER:张三", target="POWER"))
    assert isinstance(result, Outcome) and result.dispatch_to == "POWER"


def test_grid_worker_verifies_and_a_grid_report_closes_without_a_rating() -> None:
    result = apply(view(CaseState.RESOLVED, citizen_reported=False),
                   action(ActionKind.VERIFY, actor="GW0001", passed=True))
    assert kinds(result) == [CaseEventKind.VERIFIED, CaseEventKind.CLOSED]


def test_worker_of_another_grid_cannot_verify() -> None:
    assert isinstance(apply(view(CaseState.RESOLVED), action(ActionKind.VERIFY, actor="GW0999", passed=True)),
                      Refusal)


def test_failed_verification_reopens() -> None:
    result = apply(view(CaseState.RESOLVED), action(ActionKind.VERIFY, actor="GW0001", passed=False))
    assert kinds(result) == [CaseEventKind.REOPENED]


def test_unsatisfied_citizen_reopens_and_satisfied_closes() -> None:
    low = apply(view(CaseState.VERIFIED), action(ActionKind.RATE, actor="CENTER:回访", satisfaction=2))
    high = apply(view(CaseState.VERIFIED), action(ActionKind.RATE, actor="CENTER:回访", satisfaction=4))
    assert kinds(low) == [CaseEventKind.RATED, CaseEventKind.REOPENED]
    assert kinds(high) == [CaseEventKind.RATED, CaseEventKind.CLOSED]


def test_extension_needs_a_request_before_the_centre_approves() -> None:
    approve = action(ActionKind.APPROVE_EXTENSION, actor="CENTER:值班长")
    assert isinstance(apply(view(CaseState.ACCEPTED), approve), Refusal)
    assert kinds(apply(view(CaseState.ACCEPTED, extension_requested=True), approve)) == [CaseEventKind.EXTENDED]


def test_suspend_then_resume_returns_to_the_state_before() -> None:
    suspended = apply(view(CaseState.ACCEPTED), action(ActionKind.SUSPEND, actor="CENTER", reason="等待鉴定"))
    assert kinds(suspended) == [CaseEventKind.SUSPENDED]
    resumed = apply(view(CaseState.SUSPENDED, state_before_suspension=CaseState.ACCEPTED),
                    action(ActionKind.RESUME, actor="CENTER"))
    assert isinstance(resumed, Outcome) and resumed.transitions[0].state is CaseState.ACCEPTED


def test_nothing_moves_a_closed_case() -> None:
    assert isinstance(apply(view(CaseState.CLOSED), action(ActionKind.ACCEPT)), Refusal)


def test_arbitration_rules_every_return_since_the_last_ruling() -> None:
    """仲裁 decides who was right: the department the case is sent back to returned it unjustly."""
    returns = [Returned("PARKS", 3, AT), Returned("HOUSING", 5, AT)]
    assert rule_returns(returns, "HOUSING") == (
        ReturnRuling(department="PARKS", returned_seq=3, returned_at=AT, justified=True),
        ReturnRuling(department="HOUSING", returned_seq=5, returned_at=AT, justified=False),
    )
    assert all(r.justified for r in rule_returns(returns, "PROPERTY"))  # neither was responsible


def test_a_reopened_case_is_worked_on_not_accepted_again() -> None:
    result = apply(view(CaseState.REOPENED), action(ActionKind.ACCEPT))
    assert isinstance(result, Refusal) and "dispatched case" in result.reason
    assert kinds(apply(view(CaseState.REOPENED), action(ActionKind.RESOLVE, evidence_urls=["https://e.org/1.jpg"]))
                 ) == [CaseEventKind.RESOLVED]
