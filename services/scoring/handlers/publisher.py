"""The publisher loop: recompute dirty entities' cards and publish the ones that changed.

One transaction per (period, entity type): lock the group, read the dirty entities' running sums,
compute their cards, re-rank the others from their stored totals (ranks depend on all of them), keep
the cards whose content or facts read differ from the last published ones, write them to `cards` and to
the outbox, tombstone keys no longer scored, and clear only the dirty marks seen at the start. A crash
anywhere rolls all of it back and the marks stay; the relay publishes the outbox afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link

from runtime.logging import get_logger
from runtime.outbox import OutboxRelay, enqueue
from runtime.telemetry import inject_headers
from schemas.cloudevents import Outgoing, encode_value
from schemas.score import EntityType
from schemas.topics import SCORE_CARD, SCORE_CARD_REMOVED, SCORING
from services.scoring.adapters import repository as repo
from services.scoring.domain.cards import unused_event_id
from services.scoring.domain.catch_up import Deferral
from services.scoring.domain.revisions import Revision, Stored, plan_revisions
from services.scoring.domain.ruler import RulerBook

log = get_logger(__name__)
tracer = trace.get_tracer("gridline.scoring")
SOURCE = "/gridline/scoring"
DUTY = 6.0  # while events keep coming, a round of t seconds is followed by DUTY × t of consuming (≤ 1/7)


def card_record(card: Revision, fed_by: Sequence[str], computed_at: datetime) -> Outgoing:
    """The card on `scoring.v1`: value and ce_id are pure functions of the facts (ce_time is the card's
    own `computed_at`, the latest event it counts); the wall clock goes in `gridline_computed_at`. The
    record's trace context is a span linked to the spans of the events that fed it; the links are also
    listed in `gridline_span_links` for consumers without a trace backend."""
    links = [Link(ctx) for ctx in (_span_context(tp) for tp in fed_by) if ctx is not None]
    key = card.card.key
    with tracer.start_as_current_span("scoring.v1 publish", kind=trace.SpanKind.PRODUCER, links=links,
                                      attributes={"gridline.card.key": key}):
        headers = inject_headers()
    extra = [("gridline_computed_at", computed_at.isoformat().encode())]
    if fed_by:
        extra.append(("gridline_span_links", ",".join(fed_by).encode()))
    record = encode_value(SCORING, key, card.body.encode(), type=SCORE_CARD, source=SOURCE, subject=key,
                          event_id=card.event_id, time=card.card.computed_at, trace_headers=headers)
    return replace(record, headers=[*record.headers, *extra])


def tombstone(gone: Stored, computed_at: datetime) -> Outgoing:
    """A null value for a key that is no longer scored (compaction then drops the key's cards); its
    ce_id names the card it removes, so a replay removes it with the same id."""
    event_id = "SX-" + hashlib.blake2b(f"{gone.key}#{gone.event_id}".encode(), digest_size=12).hexdigest()
    record = encode_value(SCORING, gone.key, None, type=SCORE_CARD_REMOVED, source=SOURCE, subject=gone.key,
                          event_id=event_id, time=computed_at)
    return replace(record, headers=[*record.headers, ("gridline_computed_at", computed_at.isoformat().encode())])


def _unused(card: Revision, taken: set[str]) -> Revision:
    event_id = unused_event_id(card.event_id, card.revision, taken)
    return card if event_id == card.event_id else replace(card, event_id=event_id)


_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _span_context(traceparent: str) -> trace.SpanContext | None:
    """A W3C `traceparent` (version 00) as the remote span context a link points to — parsed by its
    format (up to 16 per card; the propagator's extract was a visible share of publishing)."""
    found = _TRACEPARENT.match(traceparent)
    if found is None:
        return None
    trace_id, span_id = int(found[1], 16), int(found[2], 16)
    if not trace_id or not span_id:
        return None
    return trace.SpanContext(trace_id, span_id, is_remote=True, trace_flags=trace.TraceFlags(int(found[3], 16)))


@dataclass(frozen=True)
class CatchUp:
    """Catching up: the consumer is at least `records` behind the log end (`behind` says how far); then
    a group still being marked waits for a round without new marks, at most `max_wait` seconds."""

    behind: Callable[[], Awaitable[int]]
    records: int
    max_wait: float


class Publisher:
    def __init__(self, pool: asyncpg.Pool, rulers: RulerBook, relay: OutboxRelay | None,
                 clock: Callable[[], datetime], interval_seconds: float = 2.0) -> None:
        self.pool = pool
        self.rulers = rulers
        self.relay = relay
        self.clock = clock
        self.interval = interval_seconds
        self.catch_up: CatchUp | None = None  # set once the consumer runs (bootstrap)
        self.deferral = Deferral()

    async def run(self, stop: asyncio.Event) -> None:
        """Debounced: a burst of events becomes one recomputation per dirty entity every `interval`. While
        events keep coming (a replay catching up) the next round also waits until `DUTY` times as long as
        this one took has passed, so publishing takes at most a share of the loop from consuming and
        intermediate cards that the next events replace are not computed; it runs at once when an
        `interval` passes without new marks (caught up). Far behind the log end (`catch_up`), a round
        also leaves the groups still being marked for later (domain/catch_up.py)."""
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await self.publish_dirty(self.clock(), await self._catching_up())
            except Exception as exc:  # the marks stay: the next round retries, the loop stays alive
                log.error("publish_dirty_failed", error=repr(exc))
            ended = time.perf_counter()
            busy_until = ended + DUTY * (ended - started)
            seen = await self._latest_mark()
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), self.interval)
                except TimeoutError:
                    pass
                latest = await self._latest_mark()
                if time.perf_counter() >= busy_until or latest == seen:
                    break
                seen = latest

    async def _latest_mark(self) -> int | None:
        try:
            async with self.pool.acquire() as conn:
                return await repo.latest_mark(conn)
        except Exception as exc:  # a database outage: the round itself reports it
            log.warning("latest_mark_failed", error=repr(exc))
            return None

    async def _catching_up(self) -> bool:
        if self.catch_up is None:
            return False
        try:
            return await self.catch_up.behind() >= self.catch_up.records
        except Exception as exc:  # no position yet (a rebalance): publish as if caught up
            log.warning("records_behind_failed", error=repr(exc))
            return False

    async def publish_dirty(self, now: datetime, catching_up: bool = False) -> int:
        """Recompute the dirty groups due (all of them unless `catching_up`: domain/catch_up.py); returns
        how many cards were written to the outbox."""
        async with self.pool.acquire() as conn:
            marks = await repo.dirty_groups(conn)
        wait = self.catch_up.max_wait if self.catch_up is not None else 0.0
        changed = 0
        for period, entity_type in self.deferral.due(marks, time.monotonic(), catching_up, wait):
            changed += await self._recompute(period, entity_type, now)
        if changed and self.relay is not None:
            self.relay.kick.set()
        return changed

    async def _recompute(self, period: str, entity_type: EntityType, now: datetime) -> int:
        """Every ruler version in effect for the month scores it, each under its own keys. Only the dirty
        entities' cards are computed (from their running sums); the others are re-ranked from their
        stored totals, and republished only when their rank moved."""
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
            dirty = await repo.dirty_entities(conn, period, entity_type, mark)
            stored = await repo.stored_cards(conn, period, entity_type)
            whole = repo.WHOLE_TYPE in dirty or any(s.facts_read is None for s in stored.values())
            facts = await repo.entity_facts(conn, period, entity_type, None if whole else dirty)
            scope = None if whole else dirty
            plans = [plan_revisions(ruler, entity_type, period, facts, stored, scope) for ruler in rulers]
            bodies = await repo.card_bodies(conn, [k for p in plans for k in p.rerank])
            changed = [r for p in plans for r in p.revisions(bodies)]
            gone = [s for p in plans for s in p.gone]
            taken = await repo.used_event_ids(conn, [r.event_id for r in changed])
            changed = [_unused(r, taken) for r in changed]
            links = await repo.entity_links(conn, period, entity_type, {r.card.entity_id for r in changed})
            await repo.save_cards(conn, changed)
            await repo.delete_cards(conn, [s.key for s in gone])
            records = [card_record(r, links.get(r.card.entity_id, []), now) for r in changed]
            records += [tombstone(s, now) for s in gone]
            await enqueue(conn, records)
            await repo.clear_dirty(conn, period, entity_type, mark)
        if records:
            log.info("cards_changed", period=period, entity_type=entity_type.value, cards=len(changed),
                     tombstones=len(gone))
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
