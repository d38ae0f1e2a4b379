"""The case state machine (ARCHITECTURE.md, case lifecycle): which action may move a case, and where to.

Pure: takes the case as it is and an action, returns the transition(s) to record or a refusal with
its reason. Routing choices (who gets a returned case) are made by the caller from `CaseView`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas.action import ActionKind, ActionTaken
from schemas.case import CaseEventKind, CaseState, ReturnRuling

OPEN_STATES = frozenset({
    CaseState.REPORTED, CaseState.DISPATCHED, CaseState.ACCEPTED, CaseState.RESOLVED, CaseState.VERIFIED,
    CaseState.RETURNED, CaseState.ESCALATED, CaseState.SUSPENDED, CaseState.EXTENDED, CaseState.REOPENED,
    CaseState.MANUAL, CaseState.ARBITRATION,
})
WITH_OWNER = frozenset({CaseState.DISPATCHED, CaseState.ESCALATED})  # waiting for 签收 accept
WORKING = frozenset({CaseState.ACCEPTED, CaseState.EXTENDED, CaseState.REOPENED})  # being handled
CENTRE_QUEUES = frozenset({CaseState.MANUAL, CaseState.ARBITRATION})


@dataclass(frozen=True)
class CaseView:
    """What the state machine needs to know about a case."""

    state: CaseState
    owner: str | None
    owner_unit: str | None
    grid_id: str | None
    grid_worker: str | None = None
    returns: int = 0
    has_next_candidate: bool = False
    citizen_reported: bool = True
    state_before_suspension: CaseState | None = None
    extension_requested: bool = False


@dataclass(frozen=True)
class Transition:
    kind: CaseEventKind
    state: CaseState
    reason: str | None = None


@dataclass(frozen=True)
class Refusal:
    reason: str


@dataclass(frozen=True)
class Outcome:
    transitions: list[Transition] = field(default_factory=list)
    redispatch: bool = False  # the caller assigns the next candidate and records `dispatched`
    dispatch_to: str | None = None  # centre's arbitration / manual dispatch target


def is_centre(actor: str) -> bool:
    return actor == "CENTER" or actor.startswith("CENTER:")


def _is_owner(case: CaseView, actor: str) -> bool:
    return actor in {case.owner, case.owner_unit} or is_centre(actor)


def apply(case: CaseView, action: ActionTaken) -> Outcome | Refusal:
    handler = _HANDLERS.get(action.kind)
    if handler is None:
        return Refusal(f"unknown action {action.kind}")
    if case.state not in OPEN_STATES:
        return Refusal(f"case is {case.state.value}; no action is possible")
    return handler(case, action)


def _accept(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if case.state not in WITH_OWNER:  # a reopened case is still the owner's: it is worked on, not accepted again
        return Refusal(f"accept needs a dispatched case, it is {case.state.value}")
    if not _is_owner(case, a.actor):
        return Refusal(f"{a.actor} is not the case owner ({case.owner})")
    return Outcome([Transition(CaseEventKind.ACCEPTED, CaseState.ACCEPTED)])


def _return(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    """退单: the first return goes to the next candidate; a second one (or none left) to arbitration."""
    if case.state not in WITH_OWNER | {CaseState.ACCEPTED}:
        return Refusal(f"return needs a dispatched or accepted case, it is {case.state.value}")
    if not _is_owner(case, a.actor):
        return Refusal(f"{a.actor} is not the case owner ({case.owner})")
    returned = Transition(CaseEventKind.RETURNED, CaseState.RETURNED, a.reason)
    if case.returns == 0 and case.has_next_candidate:
        return Outcome([returned], redispatch=True)
    why = "second return" if case.returns >= 1 else "no other candidate"
    return Outcome([returned, Transition(CaseEventKind.ARBITRATION_REQUESTED, CaseState.ARBITRATION, why)])


def _progress(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if case.state not in WORKING:
        return Refusal(f"progress notes need an accepted case, it is {case.state.value}")
    if not _is_owner(case, a.actor):
        return Refusal(f"{a.actor} is not the case owner ({case.owner})")
    return Outcome([Transition(CaseEventKind.PROGRESSED, case.state, a.note)])


def _resolve(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if case.state not in WORKING:
        return Refusal(f"resolve needs an accepted case, it is {case.state.value}")
    if not _is_owner(case, a.actor):
        return Refusal(f"{a.actor} is not the case owner ({case.owner})")
    return Outcome([Transition(CaseEventKind.RESOLVED, CaseState.RESOLVED, a.note)])


def _verify(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    """核查 by the grid (its worker, the grid id) or the centre."""
    if case.state is not CaseState.RESOLVED:
        return Refusal(f"verify needs a resolved case, it is {case.state.value}")
    if not (is_centre(a.actor) or a.actor in {case.grid_id, case.grid_worker} - {None}):
        return Refusal(f"{a.actor} may not verify cases of grid {case.grid_id}")
    if not a.passed:
        return Outcome([Transition(CaseEventKind.REOPENED, CaseState.REOPENED, a.reason or "verification failed")])
    verified = Transition(CaseEventKind.VERIFIED, CaseState.VERIFIED)
    if case.citizen_reported:
        return Outcome([verified])  # waits for the citizen's rating (回访)
    return Outcome([verified, Transition(CaseEventKind.CLOSED, CaseState.CLOSED, "verified, no citizen to rate")])


def _rate(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if case.state is not CaseState.VERIFIED:
        return Refusal(f"rating needs a verified case, it is {case.state.value}")
    rated = Transition(CaseEventKind.RATED, CaseState.VERIFIED, f"satisfaction {a.satisfaction}")
    if (a.satisfaction or 0) >= 3:
        return Outcome([rated, Transition(CaseEventKind.CLOSED, CaseState.CLOSED, "citizen satisfied")])
    return Outcome([rated, Transition(CaseEventKind.REOPENED, CaseState.REOPENED, "citizen not satisfied")])


def _request_extension(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if case.state not in WORKING:
        return Refusal(f"extensions are requested on accepted cases, it is {case.state.value}")
    if not _is_owner(case, a.actor):
        return Refusal(f"{a.actor} is not the case owner ({case.owner})")
    return Outcome([Transition(CaseEventKind.EXTENSION_REQUESTED, case.state, a.reason)])


def _approve_extension(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if not is_centre(a.actor):
        return Refusal("only the command centre approves extensions")
    if not case.extension_requested or case.state not in WORKING:
        return Refusal("no pending extension request on this case")
    return Outcome([Transition(CaseEventKind.EXTENDED, CaseState.EXTENDED, a.reason)])


def _suspend(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if not is_centre(a.actor):
        return Refusal("only the command centre suspends a case (挂起)")
    if case.state not in WITH_OWNER | WORKING:
        return Refusal(f"cannot suspend a {case.state.value} case")
    return Outcome([Transition(CaseEventKind.SUSPENDED, CaseState.SUSPENDED, a.reason)])


def _resume(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if not is_centre(a.actor):
        return Refusal("only the command centre resumes a case")
    if case.state is not CaseState.SUSPENDED or case.state_before_suspension is None:
        return Refusal("case is not suspended")
    return Outcome([Transition(CaseEventKind.RESUMED, case.state_before_suspension, a.reason)])


def _centre_dispatch(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    """仲裁 arbitration or 人工分拨 manual dispatch: the centre names who must take the case."""
    if not is_centre(a.actor):
        return Refusal("only the command centre dispatches manually or arbitrates")
    wanted = CaseState.ARBITRATION if a.kind is ActionKind.ARBITRATE else CaseState.MANUAL
    if case.state is not wanted and not (a.kind is ActionKind.DISPATCH and case.state is CaseState.RETURNED):
        return Refusal(f"{a.kind.value} needs a case in {wanted.value}, it is {case.state.value}")
    return Outcome([], dispatch_to=a.target)


@dataclass(frozen=True)
class Returned:
    """A 退单 awaiting the centre's ruling: who returned the case, in which event, when."""

    department: str
    seq: int
    at: datetime


def rule_returns(returns: list[Returned], ruled_owner: str) -> tuple[ReturnRuling, ...]:
    """仲裁's verdict on each return since the previous ruling: a department the centre sends the case
    back to was responsible after all (unjustified); every other return was justified."""
    return tuple(ReturnRuling(department=r.department, returned_seq=r.seq, returned_at=r.at,
                              justified=r.department != ruled_owner) for r in returns)


def _reject(case: CaseView, a: ActionTaken) -> Outcome | Refusal:
    if not is_centre(a.actor):
        return Refusal("only the command centre rejects an incident")
    if case.state not in CENTRE_QUEUES | {CaseState.REPORTED, CaseState.DISPATCHED}:
        return Refusal(f"cannot reject a {case.state.value} case")
    return Outcome([Transition(CaseEventKind.REJECTED, CaseState.REJECTED, a.reason)])


_HANDLERS = {
    ActionKind.ACCEPT: _accept,
    ActionKind.RETURN: _return,
    ActionKind.PROGRESS: _progress,
    ActionKind.RESOLVE: _resolve,
    ActionKind.VERIFY: _verify,
    ActionKind.RATE: _rate,
    ActionKind.REQUEST_EXTENSION: _request_extension,
    ActionKind.APPROVE_EXTENSION: _approve_extension,
    ActionKind.SUSPEND: _suspend,
    ActionKind.RESUME: _resume,
    ActionKind.ARBITRATE: _centre_dispatch,
    ActionKind.DISPATCH: _centre_dispatch,
    ActionKind.REJECT: _reject,
}
