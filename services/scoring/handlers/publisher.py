"""The publisher loop: recompute dirty months' cards and publish the ones that changed.

One transaction per (period, entity type): lock the group, read its facts, compute every card of the
type (ranks depend on all of them), keep those whose content hash differs from the last published
one, write them to `cards` and to the outbox, and clear only the dirty marks seen at the start. A
crash anywhere rolls all of it back and the marks stay; the relay publishes the outbox afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link

from runtime.logging import get_logger
from runtime.outbox import OutboxRelay, enqueue
from runtime.telemetry import context_from_traceparent, inject_headers
from schemas.cloudevents import Outgoing, encode
from schemas.score import EntityType, ScoreCard
from schemas.topics import SCORE_CARD, SCORING
from services.scoring.adapters import repository as repo
from services.scoring.domain.cards import card_event_id, compute_cards, content_hash, unused_event_id
from services.scoring.domain.ruler import RulerBook

log = get_logger(__name__)
tracer = trace.get_tracer("gridline.scoring")
SOURCE = "/gridline/scoring"


LINKS_PER_CARD = 16  # span links to the latest events that fed a card (a card sums many events)


def card_record(card: ScoreCard, event_id: str, fed_by: Sequence[str], computed_at: datetime) -> Outgoing:
    """The card on `scoring.v1`: value and ce_id are pure functions of the facts (ce_time is the card's
    own `computed_at`, the latest event it counts); the wall clock goes in `gridline_computed_at`. The
    record's trace context is a span linked to the spans of the events that fed it; the links are also
    listed in `gridline_span_links` for consumers without a trace backend."""
    links = [Link(ctx) for ctx in (_span_context(tp) for tp in fed_by) if ctx is not None]
    with tracer.start_as_current_span("scoring.v1 publish", kind=trace.SpanKind.PRODUCER, links=links,
                                      attributes={"gridline.card.key": card.key}):
        headers = inject_headers()
    record = encode(SCORING, card.key, card, type=SCORE_CARD, source=SOURCE, subject=card.key, event_id=event_id,
                    time=card.computed_at, trace_headers=headers)
    extra = [("gridline_computed_at", computed_at.isoformat().encode())]
    if fed_by:
        extra.append(("gridline_span_links", ",".join(fed_by).encode()))
    return replace(record, headers=[*record.headers, *extra])


def _span_context(traceparent: str) -> trace.SpanContext | None:
    span = trace.get_current_span(context_from_traceparent(traceparent))
    found = span.get_span_context()
    return found if found.is_valid else None


class Publisher:
    def __init__(self, pool: asyncpg.Pool, rulers: RulerBook, relay: OutboxRelay | None,
                 clock: Callable[[], datetime], interval_seconds: float = 2.0) -> None:
        self.pool = pool
        self.rulers = rulers
        self.relay = relay
        self.clock = clock
        self.interval = interval_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Debounced: a burst of events becomes one recomputation per group every `interval`."""
        while not stop.is_set():
            try:
                await self.publish_dirty(self.clock())
            except Exception as exc:  # the marks stay: the next round retries, the loop stays alive
                log.error("publish_dirty_failed", error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass

    async def publish_dirty(self, now: datetime) -> int:
        """Recompute every dirty group; returns how many cards were written to the outbox."""
        async with self.pool.acquire() as conn:
            groups = await repo.dirty_groups(conn)
        changed = 0
        for period, entity_type in groups:
            changed += await self._recompute(period, entity_type, now)
        if changed and self.relay is not None:
            self.relay.kick.set()
        return changed

    async def _recompute(self, period: str, entity_type: EntityType, now: datetime) -> int:
        """Every ruler version in effect for the month scores it, each under its own keys."""
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.lock_group(conn, period, entity_type)
            mark = await repo.highest_mark(conn, period, entity_type)
            if mark is None:
                return 0  # another instance has just done it
            rulers = [r for r in self.rulers.in_effect(period) if entity_type in r.entity_types]
            if not rulers:
                log.warning("no_ruler_in_effect", period=period, entity_type=entity_type.value)
                await repo.clear_dirty(conn, period, entity_type, mark)
                return 0
            facts = await repo.period_facts(conn, period, entity_type)
            before = await repo.published(conn, period, entity_type)
            changed: list[tuple[ScoreCard, str, str, int]] = []
            for ruler in rulers:
                read = ruler.facts_read(entity_type)
                own = {entity.entity_id: entity.facts_of(read) for entity in facts}
                for card in compute_cards(ruler, facts, period):
                    digest = content_hash(card)
                    event_id = card_event_id(card.key, digest, own[card.entity_id])
                    old_id, revision = before.get(card.key, ("", 0))
                    if event_id != old_id:  # new content, or new facts it reads: a new revision
                        changed.append((card, digest, event_id, revision + 1))
            taken = await repo.used_event_ids(conn, [event_id for _, _, event_id, _ in changed])
            changed = [(card, digest, unused_event_id(event_id, revision, taken), revision)
                       for card, digest, event_id, revision in changed]
            traces = await repo.feeding_traces(conn, period, entity_type, LINKS_PER_CARD) if changed else {}
            await repo.save_cards(conn, changed)
            records = [card_record(card, event_id, traces.get(card.entity_id, []), now)
                       for card, _, event_id, _ in changed]
            await enqueue(conn, records)
            await repo.clear_dirty(conn, period, entity_type, mark)
        if records:
            log.info("cards_changed", period=period, entity_type=entity_type.value, cards=len(records))
        return len(records)

    async def mark_ruler_changes(self) -> int:
        """After a new ruler version is published (it may apply to past months): every group whose cards
        do not come from exactly the versions in effect for its month is recomputed."""
        async with self.pool.acquire() as conn, conn.transaction():
            used = await repo.card_rulers(conn)
            stale: set[repo.DirtyKey] = set()
            for period in await repo.fact_periods(conn):
                for etype in EntityType:
                    wanted = {r.version for r in self.rulers.in_effect(period) if etype in r.entity_types}
                    if wanted and used.get((period, etype.value), set()) != wanted:
                        stale.add((period, etype.value, repo.WHOLE_TYPE))
            await repo.mark_dirty(conn, stale)
        return len(stale)
