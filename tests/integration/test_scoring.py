"""Scoring against the real broker and database: the test plays router and sla by producing their events.

Each test has its own schema and consumer group, positioned at the end of the input topics before it
produces, and its own entity ids (TESTDEPT_A_<uid> …) in a month no other test uses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.case import CaseEvent
from schemas.cloudevents import Outgoing, encode
from schemas.score import ScoreCard
from schemas.sla import SlaEvent
from schemas.topics import CASE_EVENTS, SCORE_CARD, SCORING, SLA_EVENTS, case_type, sla_type
from services.scoring.app import create_app
from services.scoring.bootstrap import Scoring
from services.scoring.domain.facts import CENTRE, HOTLINE_ID
from services.scoring.settings import ScoringSettings
from tests.integration.conftest import TopicReader, serve
from tests.unit.scoring.builders import EXPECTED_MONTH, EXPECTED_NEXT_MONTH, a_month_of_cases, suffix, summary

pytestmark = pytest.mark.integration
Offsets = dict[TopicPartition, int]


def settings(stack: Stack, uid: str, group: str) -> ScoringSettings:
    return ScoringSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                           schema_name=f"scoring_t{uid.lower()}", group_id=group, publish_interval_seconds=0.2,
                           from_committed=True)  # the test's group starts at the test's records


async def input_end_offsets(bootstrap: str) -> Offsets:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in (CASE_EVENTS, SLA_EVENTS) for p in consumer.partitions_for_topic(t) or ()]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def start_group_at(bootstrap: str, group: str, offsets: Offsets) -> None:
    """A new group starts where the test says, not at the beginning of everyone's history."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
    finally:
        await consumer.stop()


def traceparent(event_id: str) -> str:
    """A W3C trace context per event, as the producing service's span would give it."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=24).hexdigest()
    return f"00-{digest[:32]}-{digest[32:]}-01"


def records(events: Sequence[CaseEvent | SlaEvent]) -> list[Outgoing]:
    out = []
    for e in events:
        trace = [("traceparent", traceparent(e.event_id).encode())]
        if isinstance(e, CaseEvent):
            out.append(encode(CASE_EVENTS, e.case_id, e, type=case_type(e.kind.value), source="/gridline/router",
                              subject=e.case_id, event_id=e.event_id, time=e.at, trace_headers=trace))
        else:
            out.append(encode(SLA_EVENTS, e.case_id, e, type=sla_type(e.kind.value), source="/gridline/sla",
                              subject=e.case_id, event_id=e.event_id, time=e.at, trace_headers=trace))
    return out


async def produce(bootstrap: str, batch: list[Outgoing]) -> None:
    producer = make_producer(bootstrap, client_id="test-scoring")
    await producer.start()
    try:
        await publish(producer, batch)
    finally:
        await producer.stop()


OLD_RULER, NEW_RULER = "2026.11-1", "2026.12-1"


async def cards_of(client: httpx.AsyncClient, period: str, uid: str, ruler: str = OLD_RULER) -> dict[str, ScoreCard]:
    response = await client.get("/v1/scores", params={"period": period, "ruler": ruler})
    assert response.status_code == 200, response.text
    cards = [ScoreCard.model_validate(c) for c in response.json()["cards"]]
    ours = [c for c in cards if c.entity_id.endswith(uid) or c.entity_id in (HOTLINE_ID, CENTRE)]  # one per month
    return {suffix(c, uid): c for c in ours}


async def until_cards(client: httpx.AsyncClient, period: str, uid: str, expected: dict[str, Any],
                      within: float = 60, ruler: str = OLD_RULER) -> dict[str, ScoreCard]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        cards = await cards_of(client, period, uid, ruler)
        if {k: summary(c) for k, c in cards.items()} == expected or loop.time() > deadline:
            assert {k: summary(c) for k, c in cards.items()} == expected
            return cards
        await asyncio.sleep(0.3)


async def published(topics: TopicReader, keys: set[str], settle: float = 1.5) -> list[ScoreCard]:
    found = await topics.collect(SCORING, lambda e: e.key in keys, expect=len(keys), timeout=30, settle=settle)
    assert all(e.type == SCORE_CARD and e.subject == e.key for e in found)
    return [ScoreCard.model_validate_json(e.data) for e in found]


async def test_a_month_of_cases_gives_exact_cards_on_scoring_v1(
    stack: Stack, topics: TopicReader, uid: str, schema: str,
) -> None:
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    batch = records(a_month_of_cases(uid, 2031, 3))
    async with serve(create_app(settings(stack, uid, group))) as client:
        await produce(stack.bootstrap, batch + batch)  # every event delivered twice
        march = await until_cards(client, "2031-03", uid, EXPECTED_MONTH)
        april = await until_cards(client, "2031-04", uid, EXPECTED_NEXT_MONTH)
        ruler = (await client.get("/v1/ruler", params={"version": OLD_RULER})).json()
        assert ruler["version"] == OLD_RULER and set(ruler["entity_types"]) >= {"department", "grid_worker"}
        assert (await client.get("/readyz")).status_code == 200
        one_type = (await client.get("/v1/scores", params={"period": "2031-03", "entity_type": "community",
                                                           "ruler": OLD_RULER})).json()
        assert [c["entity_id"] for c in one_type["cards"]] == [f"COMM2_{uid}", f"COMM_{uid}"]  # ranked
    latest = {c.key: c for c in await published(topics, {c.key for c in [*march.values(), *april.values()]})}
    # the topic holds every version's cards; these are the 2026.11-1 ones
    assert latest == {c.key: c for c in [*march.values(), *april.values()]}  # the topic says what the API says


async def test_redelivery_and_a_restart_count_nothing_twice(
    stack: Stack, topics: TopicReader, uid: str, schema: str,
) -> None:
    start = await input_end_offsets(stack.bootstrap)
    await start_group_at(stack.bootstrap, f"gridline-scoring-test-{uid}-1", start)
    batch = records(a_month_of_cases(uid, 2031, 5))
    async with serve(create_app(settings(stack, uid, f"gridline-scoring-test-{uid}-1"))) as client:
        await produce(stack.bootstrap, batch)
        before = await until_cards(client, "2031-05", uid, EXPECTED_MONTH)
        facts_before = await ledger(client, uid)
    keys = {c.key for c in before.values()}
    published_before = len(await published(topics, keys))

    await produce(stack.bootstrap, batch)  # a producer retrying everything
    group = f"gridline-scoring-test-{uid}-2"  # and a consumer that re-reads all of it from the start
    await start_group_at(stack.bootstrap, group, start)
    async with serve(create_app(settings(stack, uid, group))) as client:
        service: Scoring = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await caught_up(service, await input_end_offsets(stack.bootstrap))
        assert await service.publisher.publish_dirty(datetime.now(UTC)) == 0
        assert await cards_of(client, "2031-05", uid) == before  # identical, computed_at included
        assert await ledger(client, uid) == facts_before
    assert len(await published(topics, keys, settle=3)) == published_before  # nothing republished


async def ledger(client: httpx.AsyncClient, uid: str) -> list[dict[str, Any]]:
    """Every fact of the test's cases, as stored: the ledger a doubled event would change."""
    pool: asyncpg.Pool = client._transport.app.state.scoring.pool  # type: ignore[attr-defined]
    rows = await pool.fetch("SELECT event_id, ordinal, fact, value::text, period FROM facts WHERE case_id LIKE $1 "
                            "ORDER BY 1, 2", f"%-{uid}")
    assert rows
    return [json.loads(json.dumps(dict(r))) for r in rows]


async def caught_up(service: Scoring, end: Offsets, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    consumer = service.plumbing.consumer
    assert consumer is not None
    while loop.time() < deadline:
        committed = {tp: await consumer.committed(tp) or 0 for tp in end}
        if all(committed[tp] >= offset for tp, offset in end.items()):
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"scoring did not catch up: {committed} < {end}")
