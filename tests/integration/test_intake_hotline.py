"""12345 hotline adapter against the real broker and database."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from deploy.local.stack import Stack
from schemas.intake_api import HotlineTicket
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app
from services.intake.domain.ids import body_hash
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_support import HOTLINE_KEY, intake_settings, ticket

pytestmark = pytest.mark.integration


async def test_ticket_is_durable_on_the_hotline_topic_exactly_once_under_retries(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        first = await client.post("/v1/hotline/tickets", json=ticket(f"T-{uid}"), headers=HOTLINE_KEY)
        again = await client.post("/v1/hotline/tickets", json=ticket(f"T-{uid}"), headers=HOTLINE_KEY)
        concurrent = await asyncio.gather(*(
            client.post("/v1/hotline/tickets", json=ticket(f"T-{uid}"), headers=HOTLINE_KEY) for _ in range(8)
        ))
    assert first.status_code == 202, first.text
    assert again.status_code == 202 and again.json()["duplicate"] is True
    ids = {r.json()["incident_id"] for r in [first, again, *concurrent]}
    assert ids == {first.json()["incident_id"]}
    found = await topics.collect(INTAKE_HOTLINE, lambda e: e.key == f"T-{uid}", expect=1, settle=2.0)
    assert len(found) == 1
    event = json.loads(found[0].data)
    assert event["reporter"]["contact_masked"] == "138****5678"
    assert "13812345678" not in found[0].data.decode()
    assert found[0].type == "gov.gridline.incident.reported.v1"
    assert found[0].traceparent is not None


async def test_same_ticket_number_with_another_body_is_a_conflict(stack: Stack, uid: str) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        await client.post("/v1/hotline/tickets", json=ticket(f"T-{uid}"), headers=HOTLINE_KEY)
        other = await client.post("/v1/hotline/tickets", json=ticket(f"T-{uid}", text="另一件事情，路灯不亮"),
                                  headers=HOTLINE_KEY)
    assert other.status_code == 409


async def test_batch_gives_per_item_results(stack: Stack, topics: TopicReader, uid: str) -> None:
    items = [ticket(f"B-{uid}-{i}") for i in range(50)]
    items.append({**ticket(f"B-{uid}-bad"), "appeal_type": "抱怨"})
    async with serve(create_app(intake_settings(stack))) as client:
        bad = await client.post("/v1/hotline/tickets:batch", json={"tickets": items}, headers=HOTLINE_KEY)
        good = await client.post("/v1/hotline/tickets:batch", json={"tickets": items[:50]}, headers=HOTLINE_KEY)
    assert bad.status_code == 422  # one malformed item refuses the whole body: field-level errors, nothing published
    assert good.status_code == 207
    body = good.json()
    assert body["accepted"] == 50 and all(r["status"] == 202 for r in body["results"])
    found = await topics.collect(INTAKE_HOTLINE, lambda e: (e.key or "").startswith(f"B-{uid}-"), expect=50,
                                 settle=1.0)
    assert len(found) == 50


async def test_a_retry_of_a_ticket_hashed_the_old_way_is_still_a_duplicate(stack: Stack, topics: TopicReader,
                                                                           uid: str) -> None:
    no = f"OLD-{uid}"
    async with serve(create_app(intake_settings(stack))) as client:
        first = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
        assert first.status_code == 202
        legacy = body_hash(HotlineTicket.model_validate(ticket(no)).model_dump(mode="json"))
        conn = await asyncpg.connect(stack.database_url)
        try:  # as a ledger row written before request_hash looks
            await conn.execute("UPDATE intake.submissions SET body_hash = $1 WHERE channel = 'hotline' "
                               "AND natural_id = $2", legacy, no)
        finally:
            await conn.close()
        again = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
        other = await client.post("/v1/hotline/tickets", json=ticket(no, text="另一件事情，路灯不亮"),
                                  headers=HOTLINE_KEY)
    assert again.status_code == 202 and again.json() == {**first.json(), "duplicate": True}
    assert other.status_code == 409
    assert len(await topics.collect(INTAKE_HOTLINE, lambda e: e.key == no, expect=1, settle=2.0)) == 1


async def test_a_batch_answers_a_repeated_ticket_as_a_duplicate_and_a_reused_number_as_a_conflict(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    taken = ticket(f"BT-{uid}-taken")
    async with serve(create_app(intake_settings(stack))) as client:
        assert (await client.post("/v1/hotline/tickets", json=taken, headers=HOTLINE_KEY)).status_code == 202
        items = [ticket(f"BT-{uid}-0"), ticket(f"BT-{uid}-1"), ticket(f"BT-{uid}-0"),
                 {**taken, "text": "另一件事情，路灯不亮"}]
        answer = await client.post("/v1/hotline/tickets:batch", json={"tickets": items}, headers=HOTLINE_KEY)
    assert answer.status_code == 207, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [202, 202, 202, 409]
    assert [r["duplicate"] for r in results[:3]] == [False, False, True]
    assert results[2]["incident_id"] == results[0]["incident_id"]
    assert answer.json()["accepted"] == 3 and answer.json()["failed"] == 1
    found = await topics.collect(INTAKE_HOTLINE, lambda e: (e.key or "").startswith(f"BT-{uid}-"), expect=3,
                                 settle=2.0)
    assert sorted(e.key or "" for e in found) == sorted([f"BT-{uid}-0", f"BT-{uid}-1", f"BT-{uid}-taken"])
