"""The rebuild's bulk read (handlers/rebuild.py `_read`): every record of a partition from its start up to
the boundary, none after it, done at the end even when the log ends in a transaction marker, and a start the
log no longer holds fails instead of jumping anywhere."""

from __future__ import annotations

from typing import Any

import confluent_kafka
import pytest

from services.scoring.domain.fold import Fold
from services.scoring.handlers.rebuild import ReadFailed, Report, _read


class Message:
    def __init__(self, topic: str, partition: int, offset: int, error: confluent_kafka.KafkaError | None = None):
        self._where, self._offset, self._error = (topic, partition), offset, error

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int:
        return self._offset

    def error(self) -> confluent_kafka.KafkaError | None:
        return self._error

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return b"not a cloudevent"

    def headers(self) -> list[tuple[str, bytes]]:
        return []

    def timestamp(self) -> tuple[int, int]:
        return (1, 0)


class Reader:
    """Hands out the given batches, then nothing; its position is past the last offset handed out (+ a marker)."""

    def __init__(self, batches: list[list[Message]], marker: bool = False) -> None:
        self.batches, self.marker, self.closed = batches, marker, False
        self.assigned: list[tuple[str, int, int]] = []
        self.positions: dict[tuple[str, int], int] = {}

    def assign(self, tps: list[confluent_kafka.TopicPartition]) -> None:
        self.assigned = [(tp.topic, tp.partition, tp.offset) for tp in tps]

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        batch = self.batches.pop(0) if self.batches else []
        for m in batch:
            if m.error() is None:
                self.positions[(m.topic(), m.partition())] = m.offset() + 1 + int(self.marker)
        return batch

    def position(self, tps: list[confluent_kafka.TopicPartition]) -> list[confluent_kafka.TopicPartition]:
        return [confluent_kafka.TopicPartition(tp.topic, tp.partition, self.positions.get((tp.topic, tp.partition),
                                                                                          -1001)) for tp in tps]

    def close(self) -> None:
        self.closed = True


class Producer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []


@pytest.fixture
def dead(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    offsets: list[int] = []

    async def dead_letter(producer: Any, service: str, record: Any, reason: str, kind: str,
                          envelope: Any = None) -> None:
        offsets.append(record.offset)

    monkeypatch.setattr("services.scoring.handlers.rebuild.dead_letter", dead_letter)
    return offsets


async def test_every_record_up_to_the_boundary_and_none_after_it(dead: list[int]) -> None:
    reader = Reader([[Message("t", 0, 5), Message("t", 0, 6)], [Message("t", 0, 7), Message("t", 0, 8)]])
    report = Report()
    await _read(reader, {("t", 0): (5, 8), ("t", 1): (3, 3)}, Fold(contexts={}), {}, Producer(), report)  # type: ignore[arg-type]
    assert reader.assigned == [("t", 0, 5)]  # an empty partition is not read
    assert dead == [5, 6, 7]  # (not CloudEvents: dead-lettered, as the consumer would)
    assert report.records == 3 and reader.closed


async def test_a_partition_ending_in_a_transaction_marker_is_done(dead: list[int]) -> None:
    reader = Reader([[Message("t", 0, 0), Message("t", 0, 1)]], marker=True)
    await _read(reader, {("t", 0): (0, 3)}, Fold(contexts={}), {}, Producer(), Report())  # type: ignore[arg-type]
    assert dead == [0, 1]


async def test_a_start_the_log_no_longer_holds_fails(dead: list[int]) -> None:
    lost = confluent_kafka.KafkaError(confluent_kafka.KafkaError._AUTO_OFFSET_RESET, "offset out of range")
    reader = Reader([[Message("t", 0, -1001, lost)]])
    with pytest.raises(ReadFailed, match="out of range"):
        await _read(reader, {("t", 0): (0, 3)}, Fold(contexts={}), {}, Producer(), Report())  # type: ignore[arg-type]
    assert reader.closed
