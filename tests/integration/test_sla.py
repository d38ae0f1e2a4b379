"""sla against the real broker and database. The test plays the router: it produces CaseEvents to
case.events.v1 and reads sla.events.v1. Time is injected: case events are dated in March 2025 and the
timer is called with a clock just past their deadlines (the background timer is off), so no other test's
cases are ever touched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.case import Assignment, CaseEvent, CaseEventKind, CaseState, Deadlines
from schemas.cloudevents import Envelope, encode
from schemas.common import Level
from schemas.topics import CASE_EVENTS, SLA_EVENTS, case_type
from services.sla.app import create_app
from services.sla.bootstrap import Sla
from services.sla.settings import SlaSettings
from tests.integration.conftest import TopicReader, serve

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning
LADDER = (Level.COMMUNITY, Level.STREET, Level.DISTRICT)


@asynccontextmanager
async def running_sla(stack: Stack) -> AsyncIterator[tuple[Sla, httpx.AsyncClient]]:
    settings = SlaSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url, schema_name="sla_it",
                           group_id="gridline-sla-it", timer_enabled=False)
    app = create_app(settings)
    async with serve(app) as client:
        yield app.state.sla, client


@asynccontextmanager
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(stack.bootstrap, client_id="test-sla-as-router")
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


class Router:
    """Writes one case's events as the router would (gapless seq, stable ids)."""

    def __init__(self, case_id: str, owner: str, *, level: Level = Level.GRID, street: str = "ST-1",
                 accept: str = "2h", handle: str = "1d") -> None:
        self.case_id, self.seq = case_id, 0
        self.assignment = Assignment(owner=owner, level=level, street_id=street)
        self.deadlines = Deadlines(accept_within=accept, handle_within=handle, clock="natural", escalation=LADDER)

    def event(self, kind: CaseEventKind, at: datetime, **extra: Any) -> CaseEvent:
        self.seq += 1
        return CaseEvent(event_id=f"{self.case_id}-{self.seq}", case_id=self.case_id, kind=kind,
                         state=CaseState.ACCEPTED, seq=self.seq, at=at, actor="router", assignment=self.assignment,
                         deadlines=self.deadlines, **extra)


async def send(p: AIOKafkaProducer, *events: CaseEvent, ce_id: str | None = None) -> None:
    await publish(p, [encode(CASE_EVENTS, e.case_id, e, type=case_type(e.kind.value), source="/gridline/router",
                             subject=e.case_id, event_id=ce_id or e.event_id, time=e.at) for e in events])


async def sla_events(topics: TopicReader, case_id: str, expect: int, settle: float = 0.0) -> list[dict[str, Any]]:
    found = await topics.collect(SLA_EVENTS, lambda e: e.subject == case_id, expect=expect, timeout=60,
                                 settle=settle)
    return [_body(e) for e in found]


def _body(e: Envelope) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(e.data)
    assert e.type == f"gov.gridline.sla.{body['kind']}.v1" and e.id == body["event_id"]
    return body


async def wait_seq(sla: Sla, case_id: str, seq: int) -> None:
    """Until sla has applied the case's event `seq` (and so everything before it on the partition)."""
    for _ in range(300):
        if await sla.pool.fetchval("SELECT last_seq FROM sla_cases WHERE case_id = $1", case_id) == seq:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"sla never applied seq {seq} of {case_id}")


async def test_dispatch_sets_the_accept_deadline(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-{uid}", "CG")
    async with running_sla(stack) as (_, client), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0))
        [event] = await sla_events(topics, router.case_id, 1)
        assert (event["kind"], event["stage"], event["owner"]) == ("deadline_set", "accept", "CG")
        assert datetime.fromisoformat(event["deadline"]) == T0 + timedelta(hours=2)
        case = (await client.get(f"/v1/sla/cases/{router.case_id}")).json()
        assert [(d["stage"], d["state"]) for d in case["deadlines"]] == [("accept", "running")]


async def test_overdue_escalates_once_despite_redelivery_and_restart(stack: Stack, topics: TopicReader,
                                                                     uid: str) -> None:
    router = Router(f"C-SLA-{uid}", f"DEPT-{uid}")
    dispatched = router.event(CaseEventKind.DISPATCHED, T0)
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, dispatched)
        await send(p, dispatched)  # the same event delivered twice (inbox)
        await send(p, dispatched, ce_id=f"other-{uid}")  # a stale copy under another id (seq)
        await send(p, router.event(CaseEventKind.PROGRESSED, T0 + timedelta(minutes=5)))
        await wait_seq(sla, router.case_id, 2)
        assert await sla.fire_due(T0 + timedelta(hours=3)) >= 2
        await sla.fire_due(T0 + timedelta(hours=4))
        listed = (await client.get("/v1/sla/overdue", params={"department": f"DEPT-{uid}"})).json()["items"]
        assert [(o["case_id"], o["stage"], o["level"]) for o in listed] == [(router.case_id, "accept", "grid")]
    async with running_sla(stack) as (sla, _), producer(stack) as p:
        await send(p, dispatched)  # delivered again to the restarted service
        await send(p, router.event(CaseEventKind.PROGRESSED, T0 + timedelta(hours=4)))
        await wait_seq(sla, router.case_id, 3)
        await sla.fire_due(T0 + timedelta(hours=5))
    events = await sla_events(topics, router.case_id, 3, settle=3.0)
    assert [e["kind"] for e in events] == ["deadline_set", "overdue", "escalation_decided"]
    assert (events[2]["to_level"], events[2]["document"]) == ("community", "risk_warning_letter")


async def test_accept_in_time_is_met_and_never_overdue(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-{uid}", "CG")
    async with running_sla(stack) as (sla, _), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0),
                   router.event(CaseEventKind.ACCEPTED, T0 + timedelta(hours=1)))
        await wait_seq(sla, router.case_id, 2)
        await sla.fire_due(T0 + timedelta(hours=3))
    events = await sla_events(topics, router.case_id, 3, settle=3.0)
    assert [(e["kind"], e["stage"]) for e in events] == [
        ("deadline_set", "accept"), ("met", "accept"), ("deadline_set", "handle")]


async def test_suspend_and_resume_move_the_deadline(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-{uid}", "CG")
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0),
                   router.event(CaseEventKind.ACCEPTED, T0 + timedelta(minutes=10)),  # handle due T0+1d+10m
                   router.event(CaseEventKind.SUSPENDED, T0 + timedelta(hours=1, minutes=10)),  # 23h left
                   router.event(CaseEventKind.RESUMED, T0 + timedelta(days=2)))
        await wait_seq(sla, router.case_id, 4)
        await sla.fire_due(T0 + timedelta(days=1, hours=12))  # past the old deadline: paused, so not due
        case = (await client.get(f"/v1/sla/cases/{router.case_id}")).json()
        assert case["deadlines"][1]["state"] == "running"
    events = await sla_events(topics, router.case_id, 5)
    assert events[-1]["kind"] == "deadline_set"
    assert datetime.fromisoformat(events[-1]["deadline"]) == T0 + timedelta(days=2, hours=23)
    assert events[-2]["deadline"] is None  # paused


async def test_overdue_list_filters(stack: Stack, uid: str) -> None:
    a = Router(f"C-SLA-A-{uid}", f"DA-{uid}", level=Level.GRID, street=f"ST-A-{uid}")
    b = Router(f"C-SLA-B-{uid}", f"DB-{uid}", level=Level.STREET, street=f"ST-B-{uid}")
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, a.event(CaseEventKind.DISPATCHED, T0), b.event(CaseEventKind.DISPATCHED, T0))
        await wait_seq(sla, a.case_id, 1)
        await wait_seq(sla, b.case_id, 1)
        await sla.fire_due(T0 + timedelta(hours=6))

        async def ids(**params: str) -> set[str]:
            response = await client.get("/v1/sla/overdue", params=params)
            assert response.status_code == 200, response.text
            return {o["case_id"] for o in response.json()["items"]} & {a.case_id, b.case_id}

        assert await ids(department=f"DA-{uid}") == {a.case_id}
        assert await ids(street=f"ST-B-{uid}") == {b.case_id}
        assert await ids(level="street", street=f"ST-B-{uid}") == {b.case_id}
        assert await ids(level="grid", street=f"ST-B-{uid}") == set()
        listed = (await client.get("/v1/sla/overdue", params={"department": f"DB-{uid}"})).json()
        [row] = listed["items"]
        assert listed["counts"]["department"] == {f"DB-{uid}": 1} and listed["counts"]["level"] == {"street": 1}
        assert row["overdue_by_seconds"] > 0 and datetime.fromisoformat(row["due"]) == T0 + timedelta(hours=2)
        assert (await client.get("/readyz")).status_code == 200
