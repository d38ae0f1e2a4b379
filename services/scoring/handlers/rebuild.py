"""Replay into an EMPTY database by rebuild — `python -m services.scoring rebuild` (README, "Replay").

Like a Kafka Streams state store restored from its changelog: the input topics are read from the start of
the log (or, with `from_committed`, from the group's committed offsets: a group created for a replay
that starts later; an empty schema never continues from the old group's place) up to their end as of now, with large
fetches and no transaction per poll; every record goes through the same inbox rule (an event id is
folded once), the same parsing and the same pure derivation as the consumer's handler
(domain/fold.py), and the settled fold is COPYed into the empty tables in ONE transaction together with
an inbox row per event and the offsets it folded up to (`rebuilds`). Then the group is committed at
those offsets, so the ordinary consumer continues from exactly there: a record after the boundary is
consumed once; a copy of an event before it finds its inbox row and is dropped. A crash before the
commit leaves the database empty (run it again); after it, the group commit is repeated by running the
command again (it sees `rebuilds` and only commits the recorded offsets). Finally every month's cards
are computed by the publisher (every group was marked dirty in the transaction) and the outbox is
drained to `scoring.v1` — the same code and bytes as the service's own rounds, which redo it if the
command stops before.

Records that are not CloudEvents, or whose payload does not parse, or whose derivation fails go to
`<topic>.dlq` as the consumer would send them.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Container
from datetime import UTC, datetime
from functools import partial

import asyncpg
import confluent_kafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from runtime.consumer import dead_letter
from runtime.db import create_pool, migrate
from runtime.kafka import make_producer
from runtime.logging import get_logger
from runtime.metrics import REBUILD_FALLBACKS
from runtime.outbox import OutboxRelay
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.scoring.adapters import bulk
from services.scoring.bootstrap import SQL
from services.scoring.domain.fold import Fold, settle
from services.scoring.domain.ruler_files import load_rulers
from services.scoring.handlers import rebuild_workers
from services.scoring.handlers.publisher import Publisher
from services.scoring.handlers.rebuild_read import (
    FETCH_BYTES,
    PARTITION_FETCH_BYTES,
    READ_BATCH,
    SERVICE,
    Bounded,
    Bounds,
    Misrouted,
    Origin,
    ReadFailed,
    Report,
    bulk_reader,
    fold_record,
    origin,
)
from services.scoring.settings import ScoringSettings

log = get_logger(__name__)


class NotEmpty(RuntimeError):
    """The schema already holds consumed state: a rebuild only ever fills an empty one."""


def _consumer(settings: ScoringSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=settings.group_id,
                            client_id="gridline-scoring-rebuild", enable_auto_commit=False,
                            isolation_level="read_committed", fetch_max_bytes=FETCH_BYTES,
                            auto_offset_reset="none",  # a start outside the log fails; never a silent jump to its end
                            max_partition_fetch_bytes=PARTITION_FETCH_BYTES)


async def _partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    await consumer._client.force_metadata_update()
    return [TopicPartition(topic, p) for topic in (CASE_EVENTS, SLA_EVENTS)
            for p in sorted(consumer.partitions_for_topic(topic) or ())]


def start_offset(committed: int | None, beginning: int, from_committed: bool) -> int:
    """Where a partition's fold starts: the log's start, unless asked to continue a group that has a place.
    (The service's group's committed offsets describe the state of a database that is gone: starting there
    would fold only the tail and publish every month's cards from it, over the right ones.)"""
    return committed if from_committed and committed is not None else beginning


async def _commit(consumer: AIOKafkaConsumer, offsets: dict[tuple[str, int], int]) -> None:
    """Commit the boundary, but never move the group back past what its consumer has committed since."""
    forward = {}
    for (t, p), o in offsets.items():
        committed = await consumer.committed(TopicPartition(t, p))
        if committed is None or committed < o:
            forward[TopicPartition(t, p)] = OffsetAndMetadata(o, "")
    if forward:
        await consumer.commit(forward)


async def _read(reader: confluent_kafka.Consumer, bounds: dict[tuple[str, int], tuple[int, int]], fold: Fold,
                inbox: dict[str, str], producer: AIOKafkaProducer, report: Report,
                folded: Callable[[], None] = lambda: None, copying: asyncio.Task[None] | None = None,
                dead_sent: Container[Origin] = ()) -> None:
    """Fold every record of each (topic, partition) from its start up to (not including) its end, in order;
    `folded` after each batch; stops early when `copying` (the ledger's COPY meanwhile) failed. A record
    whose dead letter is in `dead_sent` (sent by a failed fold in several processes) is not sent again."""
    try:
        records = Bounded(reader, bounds)
        while records.left:
            messages = await asyncio.to_thread(reader.consume, READ_BATCH, 1.0)
            for topic, message in records.take(messages):
                await _fold_one(message, topic, fold, inbox, producer, report, dead_sent)
            folded()
            if copying is not None and copying.done():
                copying.result()  # its error, now
                raise ReadFailed("the ledger's COPY ended before the read")
            records.check_positions()
    finally:
        reader.close()


async def _fold_one(message: confluent_kafka.Message, topic: str, fold: Fold, inbox: dict[str, str],
                    producer: AIOKafkaProducer, report: Report, dead_sent: Container[Origin] = ()) -> None:
    dead = fold_record(message, topic, fold, inbox, report)
    if dead is not None and origin(dead.record) not in dead_sent:
        await dead_letter(producer, SERVICE, dead.record, dead.reason, dead.kind, dead.envelope)


async def _fill(pool: asyncpg.Pool, settings: ScoringSettings, bounds: Bounds, offsets: dict[tuple[str, int], int],
                workers: int, producer: AIOKafkaProducer, report: Report,
                dead_sent: set[Origin]) -> tuple[float, float]:
    """Fold the bounded log and write it, in ONE transaction opened before the read (the tables locked and
    checked empty); returns when the read and the settling ended. `dead_sent`: the records dead-lettered
    already (by a fold that failed), which are not sent again; a fold in workers adds to it."""
    collecting = gc.isenabled()
    gc.freeze()  # the fold's tens of millions of live objects are never garbage: no cyclic walks over them
    gc.disable()
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE inbox, cases, facts IN EXCLUSIVE MODE")
            if not await bulk.is_empty(conn):
                raise NotEmpty(f"schema {settings.schema_name} was written to before the rebuild began")
            if workers > 1:
                marks = await rebuild_workers.fold_and_write(conn, settings, bounds, offsets, workers, producer,
                                                             report, dead_sent)
                return marks["read_and_fold"], marks["settle"]
            fold = Fold(contexts={})
            inbox: dict[str, str] = {}  # event id → topic, in the order folded
            feed = bulk.FactFeed()
            copying = asyncio.create_task(feed.copy(conn))  # PostgreSQL takes the ledger while we read
            try:
                await _read(bulk_reader(settings), bounds, fold, inbox, producer, report,
                            partial(feed.offer, fold.facts), copying, dead_sent)
            finally:
                feed.close()
                await copying
            report.events = len(inbox)
            read = time.perf_counter()
            settled = settle(fold)
            del fold
            settled_at = time.perf_counter()
            report.written = await bulk.write(conn, settled, inbox.items(), offsets, facts_copied=feed.sent)
            del settled, inbox
            return read, settled_at
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()


async def rebuild(settings: ScoringSettings, clock: Callable[[], datetime] | None = None, *,
                  from_committed: bool = False, workers: int | None = None) -> Report:
    """Fold the topics' backlog into the empty schema, hand the group over at the boundary, publish.
    `from_committed`: start at the group's committed offsets (the log's start where it has none) instead of
    the log's start — for a group created to replay from a later point; the service's own group's offsets
    describe a database that is gone. `workers`: fold in that many processes (settings.rebuild_workers by
    default; 1 folds in this one), the same tables either way."""
    report = Report()
    began = time.perf_counter()
    rulers = load_rulers(settings.ruler_dir)
    await migrate(settings.database_url, settings.schema_name, SQL)
    pool = await create_pool(settings.database_url, settings.schema_name, max_size=2, reset_sessions=False)
    producer = make_producer(settings.kafka_bootstrap, client_id="gridline-scoring-rebuild", linger_ms=5)
    consumer = _consumer(settings)
    await producer.start()
    await consumer.start()
    try:
        async with pool.acquire() as conn:
            if not await bulk.is_empty(conn):
                recorded = await bulk.rebuilt_offsets(conn)
                if not recorded:
                    raise NotEmpty(f"schema {settings.schema_name} already holds consumed events; a rebuild "
                                   "fills an empty one (a new schema, or the service's own consumer)")
                tps = await _partitions(consumer)
                consumer.assign(tps)
                await _commit(consumer, recorded)  # the hand-off of an earlier rebuild, repeated
                report.handoff_only = True
                report.offsets = {f"{t}:{p}": o for (t, p), o in sorted(recorded.items())}
                return report
        tps = await _partitions(consumer)
        consumer.assign(tps)
        consumer.pause(*tps)  # offsets and the hand-off only: the records are read by `_reader`
        start: dict[TopicPartition, int] = {}
        for tp in tps:
            committed = await consumer.committed(tp) if from_committed else None
            start[tp] = start_offset(committed, (await consumer.beginning_offsets([tp]))[tp], from_committed)
        end: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        bounds = {(tp.topic, tp.partition): (start[tp], end[tp]) for tp in tps}
        offsets = {(tp.topic, tp.partition): max(start[tp], end[tp]) for tp in tps}
        workers = settings.rebuild_workers if workers is None else workers
        dead_sent: set[Origin] = set()
        try:
            read, settled_at = await _fill(pool, settings, bounds, offsets, workers, producer, report, dead_sent)
            report.workers = max(1, workers)
        except (Misrouted, rebuild_workers.WorkerFailed) as exc:
            # a record keyed other than by its case (the log cannot be split by key), or a worker that died
            # or hung: its transaction rolled back; the same log, folded again in this process
            reason = str(exc).splitlines()[0]
            log.warning("rebuild_in_one_process", reason=reason, workers=workers,
                        dead_letters_sent_before=len(dead_sent))
            REBUILD_FALLBACKS.labels(SERVICE, "misrouted" if isinstance(exc, Misrouted) else "worker_failed").inc()
            report = Report(fell_back=reason)
            read, settled_at = await _fill(pool, settings, bounds, offsets, 1, producer, report, dead_sent)
        written = time.perf_counter()
        await _commit(consumer, offsets)
        report.offsets = {f"{t}:{p}": o for (t, p), o in sorted(offsets.items())}
        relay = OutboxRelay(pool, producer, settings.schema_name, service=SERVICE)
        publisher = Publisher(pool, rulers, relay, clock or (lambda: datetime.now(UTC)))
        report.cards = await publisher.publish_dirty(publisher.clock())
        computed = time.perf_counter()
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", relay.lock_id):
                try:
                    while await relay.publish_pending(conn):
                        pass
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", relay.lock_id)
        done = time.perf_counter()
        report.seconds = {"read_and_fold": round(read - began, 2), "settle": round(settled_at - read, 2),
                          "write": round(written - settled_at, 2), "cards": round(computed - written, 2),
                          "publish": round(done - computed, 2), "total": round(done - began, 2)}
        log.info("rebuilt", records=report.records, events=report.events, cards_published=report.cards,
                 **{f"{phase}_seconds": s for phase, s in report.seconds.items()})
        return report
    finally:
        await consumer.stop()
        await producer.stop()
        await pool.close()
