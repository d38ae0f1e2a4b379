"""Escalations decided by sla (sla.events.v1): raise the level along the item's ladder and reassign."""

from __future__ import annotations

from schemas.case import CaseEventKind, CaseState
from schemas.cloudevents import Envelope
from schemas.common import Level
from schemas.sla import SlaEvent, SlaEventKind
from services.router.adapters import repository as repo
from services.router.domain.decide import escalate
from services.router.domain.escalation import stale_because
from services.router.domain.lifecycle import OPEN_STATES
from services.router.handlers.context import RouterContext, publish_later


async def handle_sla_event(ctx: RouterContext, envelope: Envelope, topic: str) -> None:
    event = envelope.payload(SlaEvent)
    if event.kind is not SlaEventKind.ESCALATION_DECIDED:
        return  # warnings and deadlines are sla's business; router acts on decisions only
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await repo.first_time(conn, envelope.id, topic):
            return
        case = await repo.load(conn, event.case_id)
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
        await repo.save(conn, case, [escalated])
        await publish_later(conn, [escalated])
    ctx.kick()
