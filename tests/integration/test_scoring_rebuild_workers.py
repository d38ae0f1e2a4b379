"""The rebuild's fold split by case between processes (handlers/rebuild_workers.py) through the real broker
and database: the same records rebuilt in one process and in two give byte-identical cards (key, value,
ce_id) and the same rows in every table — trace parents and span links included — with a repeat complaint
whose two cases are folded by different workers; a record keyed other than by its case makes the rebuild
fold in one process instead, with the same result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from schemas.case import CaseEvent
from schemas.sla import SlaEvent
from schemas.topics import SCORING
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
    names = [f"scoring_t{uid.lower()}_w{n}" for n in range(4)]
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


async def rebuilt(stack: Stack, uid: str, schema: str, workers: int, start: Any) -> tuple[dict[str, Card], Any]:
    group = f"scoring-{schema}"
    await start_group_at(stack.bootstrap, group, start)
    s = settings(stack, uid, group).model_copy(update={"schema_name": schema})
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
