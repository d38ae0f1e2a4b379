"""The publisher loop: recompute dirty months' cards and publish the ones that changed.

One transaction per (period, entity type): lock the group, read its facts, compute every card of the
type (ranks depend on all of them), keep those whose content hash differs from the last published
one, write them to `cards` and to the outbox, and clear only the dirty marks seen at the start. A
crash anywhere rolls all of it back and the marks stay; the relay publishes the outbox afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import asyncpg

from runtime.logging import get_logger
from runtime.outbox import OutboxRelay, enqueue
from schemas.cloudevents import Outgoing, encode
from schemas.score import EntityType, ScoreCard
from schemas.topics import SCORE_CARD, SCORING
from services.scoring.adapters import repository as repo
from services.scoring.domain.cards import card_event_id, compute_cards, content_hash
from services.scoring.domain.ruler import RulerBook

log = get_logger(__name__)
SOURCE = "/gridline/scoring"


def card_record(card: ScoreCard, event_id: str) -> Outgoing:
    return encode(SCORING, card.key, card, type=SCORE_CARD, source=SOURCE, subject=card.key, event_id=event_id,
                  time=card.computed_at)


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
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.lock_group(conn, period, entity_type)
            mark = await repo.highest_mark(conn, period, entity_type)
            if mark is None:
                return 0  # another instance has just done it
            ruler = self.rulers.for_period(period)
            if ruler is None:
                log.warning("no_ruler_in_effect", period=period, entity_type=entity_type.value)
                await repo.clear_dirty(conn, period, entity_type, mark)
                return 0
            facts = await repo.period_facts(conn, period, entity_type)
            before = await repo.published(conn, period, entity_type)
            records: list[Outgoing] = []
            for card in compute_cards(ruler, facts, period, computed_at=now):
                digest = content_hash(card)
                old_digest, revision = before.get(card.key, ("", 0))
                if digest == old_digest:
                    continue
                await repo.save_card(conn, card, digest, revision + 1)
                records.append(card_record(card, card_event_id(card.key, revision + 1, digest)))
            await enqueue(conn, records)
            await repo.clear_dirty(conn, period, entity_type, mark)
        if records:
            log.info("cards_changed", period=period, entity_type=entity_type.value, cards=len(records))
        return len(records)

    async def mark_ruler_changes(self) -> int:
        """After a new ruler version is published: groups computed with another version are redone."""
        async with self.pool.acquire() as conn, conn.transaction():
            used = await repo.card_rulers(conn)
            stale: set[repo.DirtyKey] = set()
            for period in await repo.fact_periods(conn):
                ruler = self.rulers.for_period(period)
                for etype in EntityType:
                    versions = used.get((period, etype.value), set())
                    if ruler is not None and versions and versions != {ruler.version}:
                        stale.add((period, etype.value, repo.WHOLE_TYPE))
            await repo.mark_dirty(conn, stale)
        return len(stale)
