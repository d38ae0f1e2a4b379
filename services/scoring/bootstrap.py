"""Composition root: builds scoring's pool, clients, handlers and loops from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime.consumer import Handler
from runtime.kafka import records_behind
from runtime.logging import get_logger
from runtime.plumbing import PlumbedService, Plumbing
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.scoring.adapters import bulk
from services.scoring.domain.ruler_files import load_rulers
from services.scoring.handlers.context import ScoringContext
from services.scoring.handlers.events import handle_events
from services.scoring.handlers.publisher import CatchUp, Publisher
from services.scoring.settings import ScoringSettings

SQL = Path(__file__).resolve().parent / "sql"
log = get_logger(__name__)


@dataclass
class Scoring(PlumbedService):
    settings: ScoringSettings
    context: ScoringContext
    publisher: Publisher


def handlers() -> dict[str, Handler]:
    """One handler for both topics: a poll's case and SLA events are one unit of work (one statement per
    table for the whole batch)."""
    return {CASE_EVENTS: handle_events, SLA_EVENTS: handle_events}


async def group_is_ahead(settings: ScoringSettings) -> bool:
    """Whether the group has committed offsets past the log's start on some partition of its topics."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=settings.group_id,
                                client_id="gridline-scoring-start", enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in (CASE_EVENTS, SLA_EVENTS) for p in consumer.partitions_for_topic(t) or ()]
        if not tps:
            return False
        beginning = await consumer.beginning_offsets(tps)
        for tp in tps:
            committed = await consumer.committed(tp)
            if committed is not None and committed > beginning[tp]:
                return True
        return False
    finally:
        await consumer.stop()


async def rebuild_a_lost_database(plumbing: Plumbing, settings: ScoringSettings,
                                  clock: Callable[[], datetime] | None) -> None:
    """An EMPTY schema behind a group that has consumed is a lost database (README, "An empty database with
    a backlog"): continuing from the group's offsets would fold only the tail and publish every month's cards
    from it over the right ones. The rebuild replays the log from its start before anything consumes, and
    hands the group over at its boundary. `from_committed` trusts the group instead (a group created to
    start later)."""
    if settings.from_committed:
        return
    async with plumbing.pool.acquire() as conn:
        if not await bulk.is_empty(conn):
            return
    if not await group_is_ahead(settings):
        return  # a new group reads from the log's start anyway (earliest)
    from services.scoring.handlers.rebuild import NotEmpty, rebuild

    log.warning("empty_schema_behind_its_group", schema=settings.schema_name, group=settings.group_id,
                action="rebuilding from the log's start before consuming")
    try:
        report = await rebuild(settings, clock)
    except NotEmpty:  # another instance rebuilt it meanwhile: its boundary is the group's place
        return
    log.info("lost_database_rebuilt", events=report.events, cards=report.cards, **report.offsets)


async def bootstrap(settings: ScoringSettings, clock: Callable[[], datetime] | None = None) -> Scoring:
    """Rulers are validated before anything connects: an invalid ruler stops the service at start."""
    rulers = load_rulers(settings.ruler_dir)
    now = clock or (lambda: datetime.now(UTC))
    plumbing = await Plumbing.open("scoring", settings, schema=settings.schema_name, sql=SQL)
    ctx = ScoringContext(pool=plumbing.pool, rulers=rulers)
    publisher = Publisher(plumbing.pool, rulers, plumbing.relay, now, settings.publish_interval_seconds)
    await rebuild_a_lost_database(plumbing, settings, clock)
    await publisher.mark_ruler_changes()
    await plumbing.consume(handlers(), group_id=settings.group_id, max_records=settings.batch_records)
    consumer = plumbing.consumer
    assert consumer is not None
    publisher.catch_up = CatchUp(partial(records_behind, consumer), settings.catch_up_records,
                                 settings.catch_up_max_wait_seconds)
    plumbing.loops.start("publisher", publisher.run)
    return Scoring(plumbing=plumbing, settings=settings, context=ctx, publisher=publisher)
