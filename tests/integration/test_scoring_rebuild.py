"""Replay by rebuild (`python -m services.scoring rebuild`, handlers/rebuild.py) through the real broker and
database: the same topic contents scored incrementally and rebuilt into an EMPTY schema give byte-identical
cards (key, value, ce_id) and the same ledger, sums, cases and repeat-complaint halves; then the ordinary
consumer continues from the rebuild's boundary exactly once — a copy of an event from before the boundary
is dropped, and late corrections after it (an arbitration ruling a return justified, a rating after the
case closed) revise the cards as they do incrementally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from schemas.case import CaseEvent, CaseEventKind
from schemas.topics import SCORING
from services.scoring.app import create_app
from services.scoring.bootstrap import Scoring
from services.scoring.handlers.rebuild import NotEmpty, rebuild
from tests.integration.conftest import open_at_start, serve
from tests.integration.test_scoring import input_end_offsets, produce, records, settings, start_group_at
from tests.integration.test_scoring_replay import drop_schemas, settle
from tests.unit.scoring.builders import an_assessed_month

pytestmark = pytest.mark.integration
PERIOD = "2032-09"
Card = tuple[bytes | None, str]  # value, ce_id

# The state both paths must agree on (trace parents aside: a repeat complaint's names the latest event of
# its cases in the batch that paired it, so it depends on how the records were batched).
STATE = {
    "facts": "SELECT event_id, ordinal, case_id, period, fact, tag, value, department, worker, at FROM facts "
             "ORDER BY 1, 2",
    "tallies": "SELECT period, entity_type, entity_id, fact, tag, n, total FROM tallies ORDER BY 1, 2, 3, 4, 5",
    "entities": "SELECT period, entity_type, entity_id, parent_id, as_of, cases_counted FROM entities "
                "ORDER BY 1, 2, 3",
    "cases": "SELECT * FROM cases ORDER BY case_id",
    "closures": "SELECT * FROM closures ORDER BY case_id",
    "openings": "SELECT * FROM openings ORDER BY case_id",
    "inbox": "SELECT event_id, topic FROM inbox ORDER BY 1",
    "cards": "SELECT key, body::text, content_hash, event_id, facts_read, rank, total FROM cards ORDER BY key",
}


@pytest_asyncio.fixture(loop_scope="session")
async def schemas(stack: Stack, uid: str) -> AsyncIterator[tuple[str, str]]:
    names = (f"scoring_t{uid.lower()}_inc", f"scoring_t{uid.lower()}_rebuilt")
    yield names
    await drop_schemas(stack, names)


async def scoring_end(bootstrap: str) -> dict[int, int]:
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        return {tp.partition: o for tp, o in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def cards_between(bootstrap: str, *windows: tuple[dict[int, int], dict[int, int]]) -> dict[str, Card]:
    """The last record per key of the month on scoring.v1 within these offset windows (per partition)."""
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        end = await consumer.end_offsets(tps)
        found: dict[str, tuple[tuple[int, int], Card]] = {}
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    key = (r.key or b"").decode()
                    inside = any(lo.get(r.partition, 0) <= r.offset < hi.get(r.partition, 0) for lo, hi in windows)
                    if inside and key.startswith(PERIOD + ":"):
                        ce_id = dict(r.headers)["ce_id"].decode()
                        if key not in found or found[key][0] < (r.partition, r.offset):
                            found[key] = ((r.partition, r.offset), (r.value, ce_id))
        return {k: card for k, (_, card) in found.items()}
    finally:
        await consumer.stop()


async def state(stack: Stack, schema: str, queries: dict[str, str] = STATE) -> dict[str, list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        return {table: [tuple(r) for r in await conn.fetch(query)] for table, query in queries.items()}
    finally:
        await conn.close()


async def test_a_rebuild_gives_the_incremental_cards_and_state_and_the_consumer_continues_exactly_once(
    stack: Stack, uid: str, schemas: tuple[str, str],
) -> None:
    month = an_assessed_month(uid, 2032, 9)
    k3 = f"K3-{uid}"
    # after the boundary: 仲裁 ruling DEPT_A's return of K3 justified (and the rest of K3), and K2's rating
    # after it was closed; a copy of K1's first event, produced again, is an event from before the boundary
    later = [e for e in month if isinstance(e, CaseEvent) and e.case_id == k3 and e.seq >= 5] + month[-1:]
    assert later[0].kind is CaseEventKind.DISPATCHED and later[0].return_rulings
    assert later[-1].kind is CaseEventKind.RATED
    before = [e for e in month if e not in later]
    again = records([next(e for e in before if isinstance(e, CaseEvent) and e.case_id == f"K1-{uid}")])
    start = await input_end_offsets(stack.bootstrap)
    await produce(stack.bootstrap, records(before))
    boundary = await input_end_offsets(stack.bootstrap)

    # (b) the rebuild into an empty schema, from the group's committed offsets
    rebuilt_group, incremental_group = f"scoring-rebuild-{uid}", f"scoring-incremental-{uid}"
    await start_group_at(stack.bootstrap, rebuilt_group, start)
    b = settings(stack, uid, rebuilt_group).model_copy(update={"schema_name": schemas[1]})
    mark0 = await scoring_end(stack.bootstrap)
    report = await rebuild(b, from_committed=True)
    mark1 = await scoring_end(stack.bootstrap)
    assert report.events == len(before) and report.dead_lettered == 0
    assert report.offsets == {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(boundary.items())}
    assert (await rebuild(b, from_committed=True)).handoff_only  # run again, it only repeats the hand-off of the group

    # (a) the same records scored incrementally
    await start_group_at(stack.bootstrap, incremental_group, start)
    a = settings(stack, uid, incremental_group).model_copy(update={"schema_name": schemas[0]})
    async with serve(create_app(a)) as client:
        service: Scoring = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await settle(service, stack.bootstrap)
        mark2 = await scoring_end(stack.bootstrap)
        incremental = await cards_between(stack.bootstrap, (mark1, mark2))
        rebuilt = await cards_between(stack.bootstrap, (mark0, mark1))
        assert incremental and set(rebuilt) == set(incremental)
        assert rebuilt == incremental  # key, value and ce_id, byte for byte
        assert await state(stack, schemas[1]) == await state(stack, schemas[0])
        with pytest.raises(NotEmpty):  # never over state the consumer wrote
            await rebuild(a, from_committed=True)

        # after the boundary: the corrections and the copy, incrementally ...
        await produce(stack.bootstrap, again + records(later))
        await settle(service, stack.bootstrap)
    mark3 = await scoring_end(stack.bootstrap)
    corrected = await cards_between(stack.bootstrap, (mark1, mark3))

    # ... and by the ordinary consumer on the rebuilt schema, from the boundary on
    async with serve(create_app(b)) as client:
        service = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await settle(service, stack.bootstrap)
        loop = service.plumbing.consumer_loop
        assert loop is not None and loop.processed == len(later) + 1  # from the boundary, not the start
    mark4 = await scoring_end(stack.bootstrap)
    continued = await cards_between(stack.bootstrap, (mark0, mark1), (mark3, mark4))
    assert continued == corrected
    revised = {k for k in corrected if corrected[k] != incremental.get(k)}
    assert {k.split(":", 2)[2].split("@")[0] for k in revised} >= {f"DEPT_A_{uid}", f"DEPT_C_{uid}", f"G1_{uid}"}
    assert await state(stack, schemas[1]) == await state(stack, schemas[0])  # the copy dropped, once each
