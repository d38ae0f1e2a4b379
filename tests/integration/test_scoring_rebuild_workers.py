"""The rebuild's fold split by case between processes (handlers/rebuild_workers.py) through the real broker
and database: the same records rebuilt in one process and in two give byte-identical cards (key, value,
ce_id) and the same rows in every table — trace parents and span links included — with a repeat complaint
whose two cases are folded by different workers; a record keyed other than by its case makes the rebuild
fold in one process instead, with the same result."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing
from schemas.sla import SlaEvent
from schemas.topics import CASE_EVENTS, SCORING, dlq
from services.scoring.handlers import rebuild_workers
from services.scoring.handlers.rebuild import rebuild
from services.scoring.handlers.rebuild_workers import owner
from tests.integration.conftest import open_at_start
from tests.integration.test_scoring import input_end_offsets, produce, records, settings, start_group_at
from tests.integration.test_scoring_rebuild import scoring_end, state
from tests.integration.test_scoring_replay import drop_schemas
from tests.unit.scoring.builders import an_assessed_month

pytestmark = pytest.mark.integration
Card = tuple[bytes | None, str]  # value, ce_id

STATE = {
    "facts": "SELECT * FROM facts ORDER BY event_id, ordinal",
    "tallies": "SELECT * FROM tallies ORDER BY 1, 2, 3, 4, 5",
    "entities": "SELECT * FROM entities ORDER BY 1, 2, 3",
    "cases": "SELECT * FROM cases ORDER BY case_id",
    "closures": "SELECT * FROM closures ORDER BY case_id",
    "openings": "SELECT * FROM openings ORDER BY case_id",
    "inbox": "SELECT event_id, topic FROM inbox ORDER BY 1",
    "dirty": "SELECT period, entity_type, entity_id FROM dirty ORDER BY 1, 2, 3",
    "cards": "SELECT key, body::text, content_hash, event_id, facts_read, rank, total FROM cards ORDER BY key",
}


@pytest_asyncio.fixture(loop_scope="session")
async def schemas(stack: Stack, uid: str) -> AsyncIterator[list[str]]:
    names = [f"scoring_t{uid.lower()}_w{n}" for n in range(6)]
    yield names
    await drop_schemas(stack, tuple(names))


def split_months(uid: str, months: int = 3) -> list[CaseEvent | SlaEvent]:
    """Assessed months whose repeat complaint (K3 repeating K1) crosses the two workers."""
    found: list[CaseEvent | SlaEvent] = []
    tries = (f"{uid}X{n}" for n in range(1000))
    for month in range(1, months + 1):
        tag = next(t for t in tries if owner(f"K1-{t}".encode(), 2) != owner(f"K3-{t}".encode(), 2))
        found += an_assessed_month(tag, 2033, month)
    return found


async def cards_between(bootstrap: str, lo: dict[int, int], hi: dict[int, int]) -> dict[str, Card]:
    """The last record per key on scoring.v1 within the offset window (per partition)."""
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        end = await consumer.end_offsets(tps)
        found: dict[str, Card] = {}
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    if lo.get(r.partition, 0) <= r.offset < hi.get(r.partition, 0):
                        found[(r.key or b"").decode()] = (r.value, dict(r.headers)["ce_id"].decode())
        return found
    finally:
        await consumer.stop()


async def rebuilt(stack: Stack, uid: str, schema: str, workers: int, start: Any,
                  **settled: Any) -> tuple[dict[str, Card], Any]:
    group = f"scoring-{schema}"
    await start_group_at(stack.bootstrap, group, start)
    s = settings(stack, uid, group).model_copy(update={"schema_name": schema, **settled})
    before = await scoring_end(stack.bootstrap)
    report = await rebuild(s, from_committed=True, workers=workers)
    return await cards_between(stack.bootstrap, before, await scoring_end(stack.bootstrap)), report


async def test_two_fold_workers_give_the_one_process_cards_and_rows(stack: Stack, uid: str,
                                                                    schemas: list[str]) -> None:
    events = split_months(uid)
    start = await input_end_offsets(stack.bootstrap)
    await produce(stack.bootstrap, records(events))
    one, one_report = await rebuilt(stack, uid, schemas[0], 1, start)
    two, two_report = await rebuilt(stack, uid, schemas[1], 2, start)
    assert (one_report.workers, two_report.workers) == (1, 2)
    assert one_report.events == two_report.events == len(events)
    assert one_report.written == two_report.written
    assert one and two == one  # key, value and ce_id, byte for byte
    assert await state(stack, schemas[1], STATE) == await state(stack, schemas[0], STATE)


async def test_a_record_keyed_other_than_by_its_case_is_rebuilt_in_one_process(stack: Stack, uid: str,
                                                                               schemas: list[str]) -> None:
    events = an_assessed_month(f"{uid}M", 2033, 6)
    out = records(events)
    moved = next(i for i, e in enumerate(events)
                 if owner(e.case_id.encode(), 2) != owner(f"{e.case_id}-elsewhere".encode(), 2))
    r = out[moved]
    out[moved] = replace(r, key=f"{events[moved].case_id}-elsewhere".encode())
    start = await input_end_offsets(stack.bootstrap)
    await produce(stack.bootstrap, out)
    one, _ = await rebuilt(stack, uid, schemas[2], 1, start)
    two, report = await rebuilt(stack, uid, schemas[3], 2, start)
    assert report.events == len(events) and report.workers == 1  # folded in one process after all
    assert one and two == one
    assert await state(stack, schemas[3], STATE) == await state(stack, schemas[2], STATE)


class Hand:
    """The test's hand on the fold workers, by pid: when the command receives its first message of `kind`
    from worker `index` ("repeats": when the command is about to send it its repeat complaints, once every
    worker has read and the dead letters are sent; "started": as soon as it is started), the worker gets
    `sig` (SIGKILL: it dies; SIGSTOP: it hangs) — once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, kind: str, sig: signal.Signals, index: int = 0) -> None:
        self.fired: int | None = None  # the pid it signalled
        self.kind, self.sig, self.index = kind, sig, index
        crew_of = rebuild_workers.Workers
        start, receive, send = crew_of.__init__, crew_of.next, crew_of.send

        def start_then_signal(crew: rebuild_workers.Workers, *args: Any) -> None:
            start(crew, *args)
            self.maybe(crew, index, "started")

        async def next_then_signal(crew: rebuild_workers.Workers) -> tuple[int, str, Any]:
            got = await receive(crew)
            self.maybe(crew, got[0], got[1])
            return got

        async def signal_then_send(crew: rebuild_workers.Workers, i: int, message: tuple[str, Any]) -> None:
            self.maybe(crew, i, message[0])
            await send(crew, i, message)

        monkeypatch.setattr(rebuild_workers.Workers, "__init__", start_then_signal)
        monkeypatch.setattr(rebuild_workers.Workers, "next", next_then_signal)
        monkeypatch.setattr(rebuild_workers.Workers, "send", signal_then_send)

    def maybe(self, crew: rebuild_workers.Workers, index: int, kind: str) -> None:
        if self.fired is None and (index, kind) == (self.index, self.kind):
            pid = crew.processes[index].pid
            assert pid is not None
            os.kill(pid, self.sig)
            self.fired = pid


def poison(uid: str, tag: str) -> Outgoing:
    """A record on case.events.v1 that is no CloudEvent: the rebuild dead-letters it."""
    return Outgoing(CASE_EVENTS, f"K9-{uid}{tag}".encode(), b"not a cloud event", [], f"poison-{uid}{tag}")


async def dead_letters_of(bootstrap: str, key: bytes) -> int:
    consumer, tps = await open_at_start(bootstrap, dlq(CASE_EVENTS))
    try:
        end = await consumer.end_offsets(tps)
        seen = 0
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                seen += sum(1 for r in batch if r.key == key)
        return seen
    finally:
        await consumer.stop()


@pytest.mark.parametrize(("kind", "sig", "silence", "why"), [
    ("facts", signal.SIGKILL, 300.0, "exited (exit code -9)"),  # killed while it reads and hands its facts over
    ("repeats", signal.SIGKILL, 300.0, "exited (exit code -9)"),  # killed settling: dead letters were sent
    ("facts", signal.SIGSTOP, 10.0, "sent nothing for 10 s"),  # hangs while it reads
], ids=["killed-reading", "killed-settling", "hung-reading"])
async def test_a_fold_worker_that_dies_or_hangs_is_folded_again_in_one_process(
    stack: Stack, uid: str, schemas: list[str], monkeypatch: pytest.MonkeyPatch, kind: str, sig: signal.Signals,
    silence: float, why: str,
) -> None:
    tag = f"{kind[0]}{sig.value}"
    events = split_months(f"{uid}{tag}", 2)
    bad = poison(uid, tag)
    start = await input_end_offsets(stack.bootstrap)
    await produce(stack.bootstrap, [*records(events), bad])
    one, _ = await rebuilt(stack, uid, schemas[4], 1, start)
    hand = Hand(monkeypatch, kind, sig)
    again, report = await rebuilt(stack, uid, schemas[5], 2, start, rebuild_worker_silence_seconds=silence)
    assert hand.fired is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(hand.fired, 0)
        raise AssertionError(f"fold worker {hand.fired} is still there")
    assert report.workers == 1 and report.events == len(events)  # folded again, in one process
    assert report.fell_back.startswith(f"fold worker 0 (pid {hand.fired}) {why}")
    assert one and again == one  # key, value and ce_id, byte for byte
    assert await state(stack, schemas[5], STATE) == await state(stack, schemas[4], STATE)
    assert await dead_letters_of(stack.bootstrap, bad.key) == 2  # once per rebuild: none doubled, none lost
