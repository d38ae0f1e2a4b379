"""Actions from intake.actions.v1: the state machine judges them; refusals are visible and dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from runtime.batch import Delivery, Rejected, each
from schemas.action import ActionKind, ActionTaken
from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState
from schemas.cloudevents import Envelope, Outgoing
from schemas.topics import INTAKE_ACTIONS, dlq
from services.router.domain.case import Case
from services.router.domain.centre import CentreDispatch, centre_dispatch
from services.router.domain.lifecycle import Outcome, Refusal, Returned, apply, rule_returns
from services.router.handlers.context import RouterContext
from services.router.handlers.work import CaseWork


async def handle_actions(
    ctx: RouterContext, conn: asyncpg.Connection, deliveries: Sequence[Delivery]
) -> list[Outgoing]:
    """A poll's new actions: their cases loaded (locked) in one query, each action judged in order."""
    actions = dict(zip(deliveries, await each(deliveries, _parse), strict=True))
    work = CaseWork(conn)
    await work.preload([a.case_id for a in actions.values()])
    await each(deliveries, lambda d: handle_action(ctx, work, d.envelope, actions[d]))
    return await work.flush()


async def _parse(delivery: Delivery) -> ActionTaken:
    return delivery.envelope.payload(ActionTaken)


async def handle_action(ctx: RouterContext, work: CaseWork, envelope: Envelope, action: ActionTaken) -> None:
    case = await work.load(action.case_id)
    if case is None:
        raise Rejected(f"unknown case {action.case_id}")
    now = ctx.clock()
    result = apply(case.view(), action)
    decided = None
    if isinstance(result, Outcome) and result.dispatch_to:
        found = centre_dispatch(result.dispatch_to, case.assignment, ctx.tables.current)
        result, decided = (Refusal(found), None) if isinstance(found, str) else (result, found)
    if isinstance(result, Refusal):
        refused = case.record(CaseEventKind.ACTION_REFUSED, case.state, at=now, actor=action.actor,
                              reason=f"{action.kind.value} refused: {result.reason}")
        work.save(case, [refused])
        work.publish([refused], [_dead_letter(envelope, result.reason)])
    else:
        returns = await work.unruled_returns(case.case_id) if action.kind is ActionKind.ARBITRATE else []
        events = _record(ctx, case, action, result, now, decided, returns)
        work.save(case, events)
        work.publish(events)


def _record(ctx: RouterContext, case: Case, action: ActionTaken, result: Outcome, now: datetime,
            decided: CentreDispatch | None, returns: list[Returned]) -> list[CaseEvent]:
    events: list[CaseEvent] = []
    for t in result.transitions:
        extra: dict[str, object] = {}
        if t.kind is CaseEventKind.RATED:
            extra["satisfaction"] = action.satisfaction
        if t.kind is CaseEventKind.EXTENDED:
            extra["extension_hours"] = action.extension_hours or case.requested_extension_hours
        if t.kind is CaseEventKind.RESOLVED:
            extra["evidence_urls"] = tuple(str(u) for u in action.evidence_urls)
        if t.kind is CaseEventKind.EXTENSION_REQUESTED:
            case.requested_extension_hours = action.extension_hours
        if t.kind is CaseEventKind.RETURNED:
            case.returns += 1
        events.append(case.record(t.kind, t.state, at=now, actor=action.actor, reason=t.reason, **extra))
    if result.redispatch:
        events.append(_redispatch(ctx, case, action, now))
    if decided is not None:
        events.append(_centre_dispatch(ctx, case, action, decided, now, returns))
    return events


def _redispatch(ctx: RouterContext, case: Case, action: ActionTaken, now: datetime) -> CaseEvent:
    """退单 → the next candidate owner that has not had the case."""
    assert case.assignment is not None
    owner = next(c for c in case.candidates if c not in case.tried)
    case.tried.append(owner)
    case.assignment = _assign(case.assignment, owner)
    return case.record(CaseEventKind.DISPATCHED, CaseState.DISPATCHED, at=now, actor="router",
                       reason=f"re-routed after return by {action.actor}: next candidate {owner}")


def _centre_dispatch(
    ctx: RouterContext, case: Case, action: ActionTaken, decided: CentreDispatch, now: datetime,
    returns: list[Returned],
) -> CaseEvent:
    """仲裁 / 人工分拨 through the router's own assignment code: the target is an item code, or a department
    that stands for its default item — either way the case gets owner unit, level, limits and ladder;
    an arbitration also rules on the returns that brought the case there (`return_rulings`)."""
    dispatch, target = decided.dispatch, decided.target
    arbitration = action.kind is ActionKind.ARBITRATE
    case.assignment, case.deadlines, case.list_version = (
        dispatch.assignment, dispatch.deadlines, decided.list_version)
    case.candidates = list(dispatch.candidates)
    case.tried.append(dispatch.assignment.owner)
    how = f"{target}'s default item {decided.item.code}" if decided.by_default else f"item {decided.item.code}"
    kind = "arbitration" if arbitration else "manual dispatch"
    reason = f"{kind} by the centre to {how}" + (f": {action.reason}" if action.reason else "")
    explanation = {"centre": {"target": target, "item_code": decided.item.code, "by_default": decided.by_default},
                   "dispatch": dispatch.explanation}
    return case.record(CaseEventKind.DISPATCHED, CaseState.DISPATCHED, at=now, actor=action.actor, reason=reason,
                       explanation=explanation,
                       return_rulings=rule_returns(returns, dispatch.assignment.owner))


def _assign(base: Assignment, owner: str) -> Assignment:
    unit = {"GRID": base.grid_id, "COMMUNITY": base.community_id, "STREET": base.street_id}.get(owner)
    return base.model_copy(update={"owner": owner, "owner_unit": unit})


def _dead_letter(envelope: Envelope, reason: str) -> Outgoing:
    headers = [("ce_specversion", b"1.0"), ("ce_id", envelope.id.encode()), ("ce_type", envelope.type.encode()),
               ("ce_source", envelope.source.encode()), ("content-type", b"application/json"),
               ("dlq_reason", reason.encode()), ("dlq_kind", b"invalid_transition"),
               ("dlq_origin", f'{{"topic": "{INTAKE_ACTIONS}", "service": "router"}}'.encode())]
    return Outgoing(topic=dlq(INTAKE_ACTIONS), key=(envelope.key or "").encode(), value=envelope.data,
                    headers=headers, event_id=f"DLQ-{envelope.id}")

