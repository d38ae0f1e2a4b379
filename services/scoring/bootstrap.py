"""Composition root: builds scoring's pool, clients, handlers and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from runtime.consumer import Handler
from runtime.kafka import records_behind
from runtime.plumbing import PlumbedService, Plumbing
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.scoring.domain.ruler_files import load_rulers
from services.scoring.handlers.context import ScoringContext
from services.scoring.handlers.events import handle_events
from services.scoring.handlers.publisher import CatchUp, Publisher
from services.scoring.settings import ScoringSettings

SQL = Path(__file__).resolve().parent / "sql"


@dataclass
class Scoring(PlumbedService):
    settings: ScoringSettings
    context: ScoringContext
    publisher: Publisher


def handlers() -> dict[str, Handler]:
    """One handler for both topics: a poll's case and SLA events are one unit of work (one statement per
    table for the whole batch)."""
    return {CASE_EVENTS: handle_events, SLA_EVENTS: handle_events}


async def bootstrap(settings: ScoringSettings, clock: Callable[[], datetime] | None = None) -> Scoring:
    """Rulers are validated before anything connects: an invalid ruler stops the service at start."""
    rulers = load_rulers(settings.ruler_dir)
    now = clock or (lambda: datetime.now(UTC))
    plumbing = await Plumbing.open("scoring", settings, schema=settings.schema_name, sql=SQL)
    ctx = ScoringContext(pool=plumbing.pool, rulers=rulers)
    publisher = Publisher(plumbing.pool, rulers, plumbing.relay, now, settings.publish_interval_seconds)
    await publisher.mark_ruler_changes()
    await plumbing.consume(handlers(), group_id=settings.group_id, max_records=settings.batch_records)
    consumer = plumbing.consumer
    assert consumer is not None
    publisher.catch_up = CatchUp(partial(records_behind, consumer), settings.catch_up_records,
                                 settings.catch_up_max_wait_seconds)
    plumbing.loops.start("publisher", publisher.run)
    return Scoring(plumbing=plumbing, settings=settings, context=ctx, publisher=publisher)
