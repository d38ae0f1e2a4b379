"""Scoring's guarantees through the real broker and database: ruler versions side by side, a late
correction republishing exactly the affected cards, the CSV for analysts, span links to the events that
fed a card, and a replay of the topics into an EMPTY database giving byte-identical cards and ce_ids."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from schemas.topics import SCORING
from services.scoring.app import create_app
from services.scoring.bootstrap import Scoring
from tests.integration.conftest import open_at_start, serve
from tests.integration.test_scoring import (
    NEW_RULER,
    OLD_RULER,
    caught_up,
    input_end_offsets,
    produce,
    records,
    settings,
    start_group_at,
    traceparent,
    until_cards,
)
from tests.unit.scoring.builders import AFFECTED_BY_THE_LATE_RATING, EXPECTED_ASSESSED, an_assessed_month

pytestmark = pytest.mark.integration
Record = tuple[str, bytes, str, dict[str, str], tuple[int, int]]  # key, value, ce_id, headers, (partition, offset)


@pytest_asyncio.fixture(loop_scope="session")
async def schemas(stack: Stack, uid: str) -> AsyncIterator[tuple[str, str]]:
    names = (f"scoring_t{uid.lower()}", f"scoring_t{uid.lower()}_replay")
    yield names
    await drop_schemas(stack, names)


async def drop_schemas(stack: Stack, names: tuple[str, ...]) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        for name in names:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def scoring_records(bootstrap: str, uid: str) -> list[Record]:
    """Every record on scoring.v1 about the test's entities (and the shared hotline/centre ids of its
    own month), in topic order per partition."""
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        end = await consumer.end_offsets(tps)
        found: list[Record] = []
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    key = (r.key or b"").decode()
                    if key.startswith("2031-07:") and (uid in key or ":12345@" in key or ":CENTER@" in key):
                        headers = {k: v.decode() for k, v in r.headers}
                        found.append((key, r.value, headers["ce_id"], headers, (r.partition, r.offset)))
        return found
    finally:
        await consumer.stop()


def latest(found: list[Record]) -> dict[str, Record]:
    return {r[0]: r for r in found}


async def settle(service: Scoring, bootstrap: str) -> None:
    """Everything produced so far is consumed, its cards computed, and the outbox published."""
    await caught_up(service, await input_end_offsets(bootstrap))
    await service.publisher.publish_dirty(service.publisher.clock())
    relay = service.plumbing.relay
    assert relay is not None
    async with service.plumbing.pool.acquire() as conn:
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            relay.kick.set()
            await conn.execute("SELECT pg_sleep(0.2)")


async def test_versions_side_by_side_late_correction_csv_links_and_a_byte_identical_replay(
    stack: Stack, uid: str, schemas: tuple[str, str],
) -> None:
    """One month through Kafka and PostgreSQL (the test plays router and sla), under both rulers."""
    month = an_assessed_month(uid, 2031, 7)
    start = await input_end_offsets(stack.bootstrap)
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, start)
    first = settings(stack, uid, group)
    async with serve(create_app(first)) as client:
        service: Scoring = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await produce(stack.bootstrap, records(month[:-1]))  # all but the late rating
        await settle(service, stack.bootstrap)
        before = latest(await scoring_records(stack.bootstrap, uid))

        await produce(stack.bootstrap, records(month[-1:]))  # the rating, after the case was closed
        new = await until_cards(client, "2031-07", uid, EXPECTED_ASSESSED, ruler=NEW_RULER)
        await settle(service, stack.bootstrap)
        after = latest(await scoring_records(stack.bootstrap, uid))
        old = (await client.get("/v1/scores", params={"period": "2031-07", "ruler": OLD_RULER})).json()
        table = await client.get("/v1/scores.csv", params={"period": "2031-07", "entity_type": "department"})
        wrong = await client.get("/v1/scores", params={"period": "2031-07", "ruler": "2099.01-1"})

    def suffix(key: str) -> str:
        period_type_id, version = key.split("@")
        _, etype, entity = period_type_id.split(":", 2)
        return f"{etype}:{entity.removesuffix('_' + uid)}@{version}"

    changed = {suffix(k) for k in after if k not in before or after[k][2] != before[k][2]}
    assert changed == {f"{e}@{NEW_RULER}" for e in AFFECTED_BY_THE_LATE_RATING} | {
        f"{e}@{OLD_RULER}" for e in ("department:DEPT_A", "community:C1", "street:S")}  # mean satisfaction there

    # two versions side by side, neither overwriting the other
    assert {c.key.split("@")[1] for c in new.values()} == {NEW_RULER}
    old_a = next(c for c in old["cards"] if c["entity_id"] == f"DEPT_A_{uid}")
    assert old_a["ruler_version"] == OLD_RULER and old["rulers_in_effect"] == [OLD_RULER, NEW_RULER]
    assert {s for s in map(suffix, after)} >= {f"department:DEPT_A@{OLD_RULER}", f"department:DEPT_A@{NEW_RULER}"}
    assert wrong.status_code == 404

    # the CSV analysts open in Excel: BOM, one row per indicator with numerator, denominator, weight, points
    assert table.headers["content-type"].startswith("text/csv") and table.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    b_returns = next(r for r in rows if r["entity_id"] == f"DEPT_B_{uid}" and r["indicator"] == "return_rate")
    assert (b_returns["name"], b_returns["numerator"], b_returns["denominator"], b_returns["weight"],
            b_returns["points"], b_returns["ruler_version"]) == ("退单率 unjustified returns over cases received",
                                                                 "1", "2", "10", "0.00", NEW_RULER)

    # span links: the card's record names the traces of the events that fed it
    card_a = after[next(k for k in after if suffix(k) == f"department:DEPT_A@{NEW_RULER}")]
    assert card_a[3]["traceparent"] and card_a[3]["gridline_computed_at"]
    late_rating = month[-1]
    # the link names the event's trace (its span is the producer's: the Kafka instrumentation adds one)
    linked = {link.split("-")[1] for link in card_a[3]["gridline_span_links"].split(",")}
    assert traceparent(late_rating.event_id).split("-")[1] in linked

    # replay: the topics from the start into an EMPTY database and a new group
    replay = f"{group}-replay"
    await start_group_at(stack.bootstrap, replay, start)
    ends: dict[int, int] = {}
    for record in await scoring_records(stack.bootstrap, uid):
        ends[record[4][0]] = max(ends.get(record[4][0], -1), record[4][1])
    # ... with the publisher catching up as a replay far behind the log end does (a group still being
    # marked waits for a round without new marks): the same last card of every key, byte for byte
    second = first.model_copy(update={"schema_name": schemas[1], "group_id": replay, "catch_up_records": 0})
    async with serve(create_app(second)) as client:
        service = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await settle(service, stack.bootstrap)
    replayed = latest([r for r in await scoring_records(stack.bootstrap, uid) if r[4][1] > ends.get(r[4][0], -1)])
    assert set(replayed) == set(after)
    assert {k: (r[1], r[2]) for k, r in replayed.items()} == {k: (r[1], r[2]) for k, r in after.items()}
