"""A fold worker's hand-over (handlers/rebuild_workers.py `_fold_part`), through a fake reader and pipe: no
message carries more than one chunk of rows or sums (a year's worker never holds its whole share twice, as
objects and as one pickled message), and the messages put together are the worker's share as one fold of
it gives: its facts, halves, inbox, cases and sums."""

from __future__ import annotations

import dataclasses
import gc
import itertools
from typing import Any

import pytest

from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing
from schemas.topics import CASE_EVENTS, SLA_EVENTS
from services.scoring.adapters import bulk, copy_text
from services.scoring.domain.fold import Fold, counted, halves
from services.scoring.domain.tallying import BatchTally, merged
from services.scoring.handlers import rebuild_workers
from services.scoring.handlers.rebuild_workers import owner
from services.scoring.settings import ScoringSettings
from tests.integration.test_scoring import records, traceparent
from tests.unit.scoring.builders import an_assessed_month
from tests.unit.scoring.test_fold_split import stored

SMALL = 3  # items per chunk of sums and halves in this test (so that a few months need many)


class Message:
    def __init__(self, record: Outgoing, offset: int) -> None:
        self.record, self._offset = record, offset

    def topic(self) -> str:
        return self.record.topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None

    def key(self) -> bytes:
        return self.record.key

    def value(self) -> bytes | None:
        return self.record.value

    def headers(self) -> list[tuple[str, bytes]]:
        return list(self.record.headers)


class Reader:
    """The records of both topics in one batch, then nothing."""

    def __init__(self, messages: list[Message]) -> None:
        self.batches = [messages]

    def assign(self, tps: Any) -> None:
        pass

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        return self.batches.pop(0) if self.batches else []

    def position(self, tps: Any) -> list[Any]:
        raise AssertionError("every partition ends at its last record")

    def close(self) -> None:
        pass


class Pipe:
    """The command's side, as the worker sees it: what it sends, and no repeat complaints back."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, message: tuple[str, Any]) -> None:
        self.sent.append(message)

    def recv(self) -> tuple[str, Any]:
        return "repeats", []

    def close(self) -> None:
        pass


def most_items(payload: object) -> int:
    """The most items any one collection of a message holds (a chunk of COPY text counts as one)."""
    if isinstance(payload, bytes):
        return 1
    if isinstance(payload, list | dict):
        return len(payload)
    if dataclasses.is_dataclass(payload):
        return max((most_items(getattr(payload, f.name)) for f in dataclasses.fields(payload)), default=0)
    return 0


def handed_over(monkeypatch: pytest.MonkeyPatch, events: list[Any], index: int) -> list[tuple[str, Any]]:
    out = records(events)
    per_topic: dict[str, int] = {}
    messages = []
    for r in out:
        messages.append(Message(r, per_topic.get(r.topic, 0)))
        per_topic[r.topic] = per_topic.get(r.topic, 0) + 1
    monkeypatch.setattr(rebuild_workers.one, "bulk_reader", lambda settings: Reader(messages))
    monkeypatch.setattr(rebuild_workers, "SUMS_CHUNK", SMALL, raising=False)
    pipe = Pipe()
    try:
        rebuild_workers._fold_part(index, 2, ScoringSettings(), {(t, 0): (0, n) for t, n in per_topic.items()},
                                   pipe)  # type: ignore[arg-type]
    finally:
        gc.unfreeze()
        gc.enable()
    return pipe.sent


def test_a_workers_share_is_handed_over_in_chunks_and_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [e for m in range(1, 13) for e in an_assessed_month(f"W{m}", 2033, m)]
    index = 0
    mine = [e for e in events if owner(e.case_id.encode(), 2) == index]
    sent = handed_over(monkeypatch, events, index)
    kinds = [kind for kind, _ in sent]
    assert kinds[-1] == "settled" and "failed" not in kinds
    for kind, payload in sent:  # one chunk a message: the share is never in one message
        assert most_items(payload) <= 2 * SMALL, kind  # (a slice of halves: the traces of both halves' cases)

    fold = Fold(contexts={})
    for e in mine:
        fold.add(e.event_id, traceparent(e.event_id), e)
    tally, cases = counted(fold, fold.facts)
    assert b"".join(p for k, p in sent if k == "facts") == b"".join(
        copy_text.chunks(map(copy_text.fact_line, fold.facts)))
    assert b"".join(p for k, p in sent if k == "cases") == b"".join(
        copy_text.chunks(copy_text.row_line(bulk.case_row(c)) for c in cases))
    inbox = b"".join(p for k, p in sent if k == "inbox").decode().splitlines()
    assert sorted(inbox) == sorted(f"{e.event_id}\t{CASE_EVENTS if isinstance(e, CaseEvent) else SLA_EVENTS}"
                                   for e in mine)
    openings, closures = halves(fold)
    got = rebuild_workers.Halves()
    for kind, payload in sent:
        if kind == "halves":
            got.add(payload)
    assert (got.openings, got.closures) == (openings, closures)
    assert got.traces == {c: fold.traces.get(c) for c in itertools.chain((o.case_id for o in openings),
                                                                         (c.case_id for c in closures))}
    sums = merged(BatchTally(tallies=p) if k == "tallies" else BatchTally(entities=p)
                  for k, p in sent if k in ("tallies", "entities"))
    assert sums.tallies == tally.tallies
    assert stored(sums) == stored(tally)
    settled = sent[-1][1]
    assert settled.n_cases == len(cases) and settled.peak_rss_kb > 0
