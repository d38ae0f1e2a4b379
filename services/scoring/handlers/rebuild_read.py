"""The rebuild's bulk read and its rules per record, shared by the fold in one process (handlers/rebuild.py)
and in several (handlers/rebuild_workers.py): librdkafka's batches bounded per partition, and each record
through the consumer's envelope, inbox, payload and derivation rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

import confluent_kafka
from aiokafka.structs import ConsumerRecord

from schemas.cloudevents import Envelope, EnvelopeError, decode
from services.scoring.domain.fold import Fold
from services.scoring.handlers.events import parse
from services.scoring.settings import ScoringSettings

SERVICE = "scoring"
Bounds = dict[tuple[str, int], tuple[int, int]]  # (topic, partition) → (first offset, boundary)
Origin = tuple[str, int, int]  # (topic, partition, offset) of a record
FETCH_BYTES = 64 * 1024 * 1024  # per fetch request, and 16 MiB per partition: a backlog comes in large reads
PARTITION_FETCH_BYTES = 16 * 1024 * 1024
READ_BATCH = 10_000  # records a bulk read hands over at once (librdkafka fetches ahead in its own threads)


class Misrouted(RuntimeError):
    """A record whose key is not its case's id: a split of the log by key would split that case."""


class ReadFailed(RuntimeError):
    """The bulk read could not go on: a start outside the log (lost to retention), or the broker refused."""


@dataclass
class Report:
    """What a rebuild did, and how long each phase took (seconds)."""

    records: int = 0
    events: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    written: dict[str, int] = field(default_factory=dict)
    cards: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)  # "topic:partition" → next offset
    handoff_only: bool = False  # the database was rebuilt before: only the group commit was repeated
    workers: int = 1  # processes the log was folded in
    peak_rss_mb: dict[str, int] = field(default_factory=dict)  # each fold worker's peak resident memory
    fell_back: str = ""  # why the split failed and the log was folded again in one process (a worker, its end)


def bulk_reader(settings: ScoringSettings) -> confluent_kafka.Consumer:
    """The bulk read (librdkafka: whole batches of records at C speed); partitions are assigned at explicit
    offsets, it never joins or commits the group. The aiokafka consumer above does offsets and the hand-off."""
    return confluent_kafka.Consumer({
        "bootstrap.servers": settings.kafka_bootstrap, "group.id": settings.group_id,
        "client.id": "gridline-scoring-rebuild-read", "enable.auto.commit": False, "enable.auto.offset.store": False,
        "isolation.level": "read_committed", "auto.offset.reset": "error",  # a start outside the log fails
        "enable.partition.eof": True, "fetch.max.bytes": FETCH_BYTES,
        "max.partition.fetch.bytes": PARTITION_FETCH_BYTES, "queued.max.messages.kbytes": 256 * 1024})


def origin(record: ConsumerRecord[bytes, bytes]) -> Origin:
    """Where a record came from: what its dead letter's `dlq_origin` names."""
    return record.topic, record.partition, record.offset


def _as_record(message: confluent_kafka.Message) -> ConsumerRecord[bytes, bytes]:
    """A record as the consumer's dead-letter path takes it (only records that fail are converted)."""
    key, value = message.key(), message.value()
    _, timestamp = message.timestamp()
    return ConsumerRecord(str(message.topic()), int(message.partition() or 0), int(message.offset() or 0),
                          timestamp, 0, key if isinstance(key, bytes) else None,
                          value if isinstance(value, bytes) else None, None, len(key or b""), len(value or b""),
                          tuple(cast("list[tuple[str, bytes]]", message.headers() or [])))


class Bounded:
    """Every record of each (topic, partition) from its start up to (not including) its end, in order, out
    of a librdkafka reader's batches: a partition is done at its last record, at its end-of-partition
    event past the boundary, or once the reader's position is past it (a log ending in a transaction's
    marker); a read error other than the end of a partition fails it (a start lost to retention)."""

    def __init__(self, reader: confluent_kafka.Consumer, bounds: dict[tuple[str, int], tuple[int, int]]) -> None:
        self.reader = reader
        self.left = {where: upto for where, (begin, upto) in bounds.items() if begin < upto}
        reader.assign([confluent_kafka.TopicPartition(t, p, bounds[(t, p)][0]) for t, p in self.left])

    def take(self, messages: list[confluent_kafka.Message]) -> Iterator[tuple[str, confluent_kafka.Message]]:
        """The batch's records inside the bounds, with their topic."""
        left = self.left
        for message in messages:
            topic, partition, offset = str(message.topic()), int(message.partition() or 0), message.offset()
            upto = left.get((topic, partition))
            error = message.error()
            if error is not None:
                if error.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                    raise ReadFailed(f"reading {topic}[{partition}]: {error}")
                if upto is not None and (offset or 0) >= upto:
                    del left[(topic, partition)]
                continue
            if upto is None or offset is None or offset >= upto:
                continue  # after the boundary: the consumer's
            if offset + 1 >= upto:
                del left[(topic, partition)]
            yield topic, message

    def check_positions(self) -> None:
        for (topic, partition), upto in list(self.left.items()):
            position = self.reader.position([confluent_kafka.TopicPartition(topic, partition)])[0].offset
            if position >= upto:  # past the last transaction's marker
                del self.left[(topic, partition)]


@dataclass(frozen=True)
class DeadLetter:
    """A record the consumer would dead-letter, and why (`dead_letter`'s arguments)."""

    record: ConsumerRecord[bytes, bytes]
    reason: str
    kind: str
    envelope: Envelope | None = None


def fold_record(message: confluent_kafka.Message, topic: str, fold: Fold, inbox: dict[str, str], report: Report,
                owned: Callable[[str], bool] | None = None) -> DeadLetter | None:
    """One record through the consumer's rules: envelope, inbox (an event id is folded once), payload,
    derivation; a record failing any of them is returned as the consumer would dead-letter it. `owned`:
    this process folds only its share of the cases (Misrouted for another's case)."""
    report.records += 1
    value = message.value()
    key = message.key()
    try:
        envelope = decode(key if isinstance(key, bytes) else None, value if isinstance(value, bytes) else None,
                          cast("list[tuple[str, bytes]]", message.headers() or []))
    except EnvelopeError as exc:
        report.dead_lettered += 1
        return DeadLetter(_as_record(message), str(exc), "envelope")
    if envelope.id in inbox:  # the inbox rule: an event id is processed once
        report.duplicates += 1
        return None
    try:
        event = parse(topic, envelope)
    except EnvelopeError as exc:
        report.dead_lettered += 1
        return DeadLetter(_as_record(message), str(exc), "rejected", envelope)
    if owned is not None and not owned(event.case_id):
        raise Misrouted(f"{topic}[{message.partition()}]@{message.offset()}: its key is not its case id")
    try:
        fold.add(envelope.id, envelope.traceparent, event)
    except Exception as exc:  # as the consumer after its retries: this record alone
        report.dead_lettered += 1
        return DeadLetter(_as_record(message), type(exc).__name__, "handler_error", envelope)
    inbox[envelope.id] = topic
    return None
