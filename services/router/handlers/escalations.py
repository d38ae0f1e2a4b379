"""Escalations decided by sla (sla.events.v1): raise the level along the item's ladder and reassign."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from runtime.batch import Delivery, each
from schemas.case import CaseEventKind, CaseState
from schemas.cloudevents import Outgoing
from schemas.common import Level
from schemas.sla import SlaEvent, SlaEventKind
from services.router.domain.decide import escalate
from services.router.domain.escalation import stale_because
from services.router.domain.lifecycle import OPEN_STATES
from services.router.handlers.context import RouterContext
from services.router.handlers.work import CaseWork


async def handle_sla_events(
    ctx: RouterContext, conn: asyncpg.Connection, deliveries: Sequence[Delivery]
) -> list[Outgoing]:
    """A poll's SLA events: the cases of its escalation decisions loaded (locked) in one query."""
    parsed = dict(zip(deliveries, await each(deliveries, _parse), strict=True))
    decisions = [d for d in deliveries if parsed[d].kind is SlaEventKind.ESCALATION_DECIDED]
    if not decisions:
        return []  # warnings and deadlines are sla's business; router acts on decisions only
    work = CaseWork(conn)
    await work.preload([parsed[d].case_id for d in decisions])
    await each(decisions, lambda d: handle_sla_event(ctx, work, parsed[d]))
    return await work.flush()


async def _parse(delivery: Delivery) -> SlaEvent:
    return delivery.envelope.payload(SlaEvent)


async def handle_sla_event(ctx: RouterContext, work: CaseWork, event: SlaEvent) -> None:
    case = await work.load(event.case_id)
    if case is None or case.state not in OPEN_STATES or case.assignment is None or case.deadlines is None:
        return  # closed meanwhile, or never dispatched: nothing to escalate
    if stale_because(case.state, case.assignment, event.stage, event.level, event.owner) is not None:
        return  # decided for a stage, owner or level the case has left meanwhile
    raised = escalate(case.assignment, case.deadlines.escalation)
    if raised is None:
        return  # already at the top of its ladder
    if event.to_level is not None and event.to_level is not raised.level:
        raised = raised.model_copy(update={"level": Level(event.to_level)})
    keeps = (raised.owner, raised.owner_unit) == (case.assignment.owner, case.assignment.owner_unit)
    case.assignment = raised
    if raised.owner not in case.tried:
        case.tried.append(raised.owner)
    why = f"{event.stage.value} overdue: escalated to {raised.level.value}"
    if event.document:
        why += f" with {event.document}"
    # a new holder must accept it (签收); a department that keeps it under 督办 works on as it was
    state = case.state if keeps else CaseState.ESCALATED
    escalated = case.record(CaseEventKind.ESCALATED, state, at=ctx.clock(), actor="sla", reason=why)
    work.save(case, [escalated])
    work.publish([escalated])
