"""case.events.v1 and sla.events.v1 → facts, exactly once.

The inbox row, the facts, the case context and the dirty marks are written in the poll batch's one
transaction (runtime.consumer; records one after another, `runtime.batch.per_record`): a redelivered
event (same ce_id) finds its inbox row and changes nothing; a crash before commit leaves nothing behind
and the batch is consumed again. Cards are not computed here — the publisher loop
recomputes dirty months in batches, so a burst of events yields one card per entity, not one per event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from schemas.case import CaseEvent
from schemas.cloudevents import Envelope, Outgoing
from schemas.sla import SlaEvent
from services.scoring.adapters import repository as repo
from services.scoring.domain.derive import Derived, from_case_event, from_sla_event
from services.scoring.domain.facts import CaseContext, Fact, attribute, place_keys
from services.scoring.domain.repeats import Closure, Opening, repeat_complaint, repeat_fact_id


def dirty_keys(facts: Iterable[Fact], context: CaseContext | None) -> set[repo.DirtyKey]:
    return {(f.period, etype.value, entity) for f in facts for etype, entity in attribute(f, context)}


async def handle_case_event(conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    """Inside the poll batch's transaction (the inbox already passed this event once)."""
    event: CaseEvent = envelope.payload(CaseEvent)
    derived = from_case_event(event, await repo.load_case(conn, event.case_id))
    await repo.save_case(conn, derived.context)
    await _record(conn, envelope.id, derived.facts, derived.context, envelope.traceparent)
    await _repeats(conn, derived, envelope.traceparent)
    if derived.located_now:
        await _mark_place(conn, derived.context)
    return []  # cards are published by the publisher loop


async def handle_sla_event(conn: asyncpg.Connection, envelope: Envelope) -> list[Outgoing]:
    event: SlaEvent = envelope.payload(SlaEvent)
    facts = from_sla_event(event)
    if facts:
        # The case may not be known yet (the topics are consumed independently); its place is joined
        # when cards are computed. The placeholder row serialises this with the case's own handler, so
        # whichever commits second marks the place's card dirty.
        await repo.ensure_case(conn, event.case_id)
        await _record(conn, envelope.id, facts, await repo.load_case(conn, event.case_id), envelope.traceparent)
    return []


async def _record(conn: asyncpg.Connection, event_id: str, facts: Sequence[Fact], context: CaseContext | None,
                  traceparent: str | None) -> None:
    if facts:
        await repo.add_facts(conn, event_id, facts, traceparent)
        await repo.mark_dirty(conn, dirty_keys(facts, context))


async def _repeats(conn: asyncpg.Connection, derived: Derived, traceparent: str | None) -> None:
    """重复投诉: pair a new case with earlier closures of its item and grid, or a closure with later cases."""
    pairs: list[tuple[Closure, Opening]] = []
    if derived.opening is not None:
        await repo.lock_place(conn, derived.opening.item_code, derived.opening.grid_id)
        pairs += [(c, derived.opening) for c in await repo.save_opening(conn, derived.opening)]
    if derived.closure is not None:
        await repo.lock_place(conn, derived.closure.item_code, derived.closure.grid_id)
        pairs += [(derived.closure, o) for o in await repo.save_closure(conn, derived.closure)]
    for closure, opening in pairs:
        found = repeat_complaint(closure, opening)
        if found is not None:  # the pair names the fact: stored once, whichever half came second
            earlier = await repo.load_case(conn, closure.case_id, lock=False)
            await _record(conn, repeat_fact_id(closure, opening), [found], earlier, traceparent)


async def _mark_place(conn: asyncpg.Connection, context: CaseContext) -> None:
    """The case's place (or channel) became known: facts recorded before (early SLA events) now count
    there too."""
    keys = {(period, etype.value, place) for period in await repo.case_periods(conn, context.case_id)
            for etype, place in place_keys(context)}
    await repo.mark_dirty(conn, keys)
