"""case.events.v1 and sla.events.v1 → facts and running sums, exactly once, one poll batch at a time.

The consumer loop gives the batch's new deliveries (the inbox already dropped redeliveries) inside the
batch's one transaction. Here: the batch's cases are locked and loaded in one statement, every event is
derived in order against the case's context in memory, and then the facts, the cases, both halves of
repeat complaints (and the corrections a nearer repeat makes), the per-entity sums and the dirty marks
are written with one statement each. A crash before commit leaves nothing behind and the batch is
consumed again. Cards are not computed here: the publisher recomputes the dirty entities' cards, so a
burst of events yields one card per entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
from opentelemetry import trace

from runtime.batch import Delivery, RecordFailed
from runtime.telemetry import context_from_traceparent
from schemas.case import CaseEvent
from schemas.cloudevents import Envelope, Outgoing
from schemas.sla import SlaEvent
from schemas.topics import CASE_EVENTS
from services.scoring.adapters import ledger
from services.scoring.domain.facts import CaseContext
from services.scoring.domain.fold import Fold
from services.scoring.domain.repeats import improvements, repeat_fact_id
from services.scoring.domain.tallying import BatchTally, Recorded, left_places, new_places

tracer = trace.get_tracer("gridline.scoring")


def parse(topic: str, envelope: Envelope) -> CaseEvent | SlaEvent:
    """The event a record carries (EnvelopeError when its payload is not one)."""
    return envelope.payload(CaseEvent) if topic == CASE_EVENTS else envelope.payload(SlaEvent)


def _span(delivery: Delivery) -> trace.Span:
    """The record's CONSUMER span, in the event's own trace (started with its context as parent rather
    than attached: derivation is pure and logs nothing, and this is the per-record cost that remained)."""
    env = delivery.envelope
    return tracer.start_span(f"{delivery.topic} process", context=context_from_traceparent(env.traceparent,
                                                                                             env.tracestate),
                             kind=trace.SpanKind.CONSUMER,
                             attributes={"messaging.system": "kafka", "messaging.destination.name": delivery.topic,
                                         "cloudevents.event_id": env.id, "cloudevents.event_type": env.type})


async def handle_events(conn: asyncpg.Connection, deliveries: Sequence[Delivery]) -> list[Outgoing]:
    """Both topics' records of one poll, in the loop's transaction (each case's events in their order).
    A record that cannot be parsed or derived is reported as that record's failure (dead-lettered by the
    loop, the rest of the batch redone without it)."""
    spans = [_span(d) for d in deliveries]
    try:
        events = []
        for delivery in deliveries:
            try:
                events.append(parse(delivery.topic, delivery.envelope))
            except Exception as exc:
                raise RecordFailed(delivery) from exc
        before = await ledger.lock_cases(conn, {e.case_id for e in events})
        batch = Fold(contexts=dict(before))
        for delivery, event in zip(deliveries, events, strict=True):
            try:
                batch.add(delivery.envelope.id, delivery.envelope.traceparent, event)
            except Exception as exc:
                raise RecordFailed(delivery) from exc
        await _write(conn, batch, before)
    finally:
        for span in spans:
            span.end()
    return []  # cards are published by the publisher loop


async def _write(conn: asyncpg.Connection, batch: Fold, before: dict[str, CaseContext]) -> None:
    tally = BatchTally()
    # A case whose place (or channel) became known: its facts stored before now count there too.
    located = {case_id: new_places(before.get(case_id), ctx) for case_id, ctx in batch.contexts.items()}
    located = {case_id: keys for case_id, keys in located.items() if keys}
    periods: dict[str, set[str]] = {}  # case id → the months of its facts (stored or new), for a case that moved
    if located:
        for earlier in await ledger.case_facts(conn, located):
            tally.add(earlier, batch.contexts[earlier.fact.case_id], only=located[earlier.fact.case_id])
            periods.setdefault(earlier.fact.case_id, set()).add(earlier.fact.period)
    for recorded in batch.facts:
        if recorded.fact.case_id in located:
            periods.setdefault(recorded.fact.case_id, set()).add(recorded.fact.period)
    repeats = await _repeats(conn, batch)
    for recorded in await ledger.add_facts(conn, batch.facts + repeats.new):
        tally.add(recorded, batch.context_of(recorded.fact.case_id))
    await ledger.replace_facts(conn, [now for _, now in repeats.corrected])
    for stored, now in repeats.corrected:  # retract and replace: the sums are what the ledger now holds
        tally.retract(stored, batch.context_of(stored.fact.case_id))
        tally.add(now, batch.context_of(now.fact.case_id))
    # The cases as they are now, with where they are counted (not the places a case moved away from).
    left = {case_id: left_places(before.get(case_id), ctx) for case_id, ctx in batch.contexts.items()}
    await ledger.save_cases(conn, [tally.counted_now(batch.contexts[case_id], left[case_id])
                                   for case_id in sorted(batch.contexts)]
                            + [tally.counted_now(batch.others[case_id]) for case_id in sorted(batch.others)
                               if tally.counted.get(case_id)])
    await ledger.add_tallies(conn, tally)
    # A case that moved: the places it left are recomputed from the ledger (it no longer counts there).
    await ledger.rebuild_places(conn, sorted({(period, etype.value, place) for case_id, places in left.items()
                                              for etype, place in places for period in periods.get(case_id, ())}))


@dataclass
class _Repeats:
    """The batch's repeat complaints: facts new to the ledger, and stored ones a nearer opening corrects."""

    new: list[Recorded] = field(default_factory=list)
    corrected: list[tuple[Recorded, Recorded]] = field(default_factory=list)  # (as stored, as it is now)


async def _repeats(conn: asyncpg.Connection, batch: Fold) -> _Repeats:
    """重复投诉: pair the batch's new cases with the closures of their item and grid they are nearer to,
    and its closures with the nearest later case (both halves stored first, so a pair within the batch
    is found too). One fact per closure (`RPT-{closure}`); a nearer opening corrects it."""
    found = _Repeats()
    if not batch.openings and not batch.closures:
        return found
    await ledger.lock_places(conn, [(o.item_code, o.grid_id) for o in batch.openings]
                             + [(c.item_code, c.grid_id) for c in batch.closures])
    pairs = await ledger.save_openings(conn, batch.openings) + await ledger.save_closures(conn, batch.closures)
    repeats = improvements(pairs)
    await ledger.pair_closures(conn, [(r.closure.case_id, r.opening.opened_at) for r in repeats])
    for repeat in (r for r in repeats if r.changes_the_fact):
        fact_id = repeat_fact_id(repeat.closure)
        trace = batch.traces.get(repeat.opening.case_id) or batch.traces.get(repeat.closure.case_id)
        now = Recorded(fact_id, 0, repeat.fact, trace)
        if repeat.replaces is None:
            found.new.append(now)
        else:
            found.corrected.append((Recorded(fact_id, 0, repeat.replaces), now))
    others = {r.fact.case_id for r in found.new} | {now.fact.case_id for _, now in found.corrected}
    if others - set(batch.contexts):  # the closed case counts the fact where it is located
        batch.others = await ledger.load_cases(conn, others - set(batch.contexts))
    return found
