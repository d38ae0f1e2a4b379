"""case.events.v1 and sla.events.v1 → facts, exactly once.

The inbox row, the facts, the case context and the dirty marks are written in one transaction: a
redelivered event (same ce_id) finds its inbox row and changes nothing; a crash before commit leaves
nothing behind and the event is consumed again. Cards are not computed here — the publisher loop
recomputes dirty months in batches, so a burst of events yields one card per entity, not one per event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from schemas.case import CaseEvent
from schemas.cloudevents import Envelope
from schemas.score import EntityType
from schemas.sla import SlaEvent
from services.scoring.adapters import repository as repo
from services.scoring.domain.derive import from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext, Fact, attribute
from services.scoring.handlers.context import ScoringContext


def dirty_keys(facts: Iterable[Fact], context: CaseContext | None) -> set[repo.DirtyKey]:
    return {(f.period, etype.value, entity) for f in facts for etype, entity in attribute(f, context)}


async def handle_case_event(ctx: ScoringContext, envelope: Envelope, topic: str) -> None:
    event: CaseEvent = envelope.payload(CaseEvent)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await repo.first_time(conn, envelope.id, topic):
            return
        derived = from_case_event(event, await repo.load_case(conn, event.case_id))
        await repo.save_case(conn, derived.context)
        await _record(conn, envelope.id, derived.facts, derived.context)
        if derived.located_now:
            await _mark_place(conn, derived.context)


async def handle_sla_event(ctx: ScoringContext, envelope: Envelope, topic: str) -> None:
    event: SlaEvent = envelope.payload(SlaEvent)
    facts = from_sla_event(event)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await repo.first_time(conn, envelope.id, topic) or not facts:
            return
        # The case may not be known yet (the topics are consumed independently); its place is joined
        # when cards are computed. The placeholder row serialises this with the case's own handler, so
        # whichever commits second marks the place's card dirty.
        await repo.ensure_case(conn, event.case_id)
        await _record(conn, envelope.id, facts, await repo.load_case(conn, event.case_id))


async def _record(conn: asyncpg.Connection, event_id: str, facts: Sequence[Fact], context: CaseContext | None) -> None:
    if facts:
        await repo.add_facts(conn, event_id, facts)
        await repo.mark_dirty(conn, dirty_keys(facts, context))


async def _mark_place(conn: asyncpg.Connection, context: CaseContext) -> None:
    """The case's place became known: facts recorded before (early SLA events) now count there too."""
    places = [(EntityType.COMMUNITY, context.community_id), (EntityType.STREET, context.street_id)]
    keys = {(period, etype.value, place) for period in await repo.case_periods(conn, context.case_id)
            for etype, place in places if place}
    await repo.mark_dirty(conn, keys)
