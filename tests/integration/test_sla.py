"""sla against the real broker and database. The test plays the router: it produces CaseEvents to
case.events.v1 and reads sla.events.v1. Time is injected: case events are dated in March 2025 and the
timer is called with a clock just past their deadlines (the background timer is off), so no other test's
cases are ever touched."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
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


async def send(p: AIOKafkaProducer, *events: CaseEvent, ce_id: str | None = None,
               traceparent: str | None = None) -> None:
    trace = [("traceparent", traceparent.encode())] if traceparent else []
    await publish(p, [encode(CASE_EVENTS, e.case_id, e, type=case_type(e.kind.value), source="/gridline/router",
                             subject=e.case_id, event_id=ce_id or e.event_id, time=e.at, trace_headers=trace)
                      for e in events])


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


async def test_the_views_find_a_case_by_its_assisting_department_while_the_clock_stays_the_leads(
        stack: Stack, uid: str) -> None:
    lead = Router(f"C-SLA-AS-{uid}", f"LEAD-{uid}", level=Level.DISTRICT)
    lead.assignment = lead.assignment.model_copy(update={"assisting": (f"HELP-{uid}", f"AID-{uid}")})
    alone = Router(f"C-SLA-AL-{uid}", f"LEAD-{uid}", level=Level.DISTRICT)
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, lead.event(CaseEventKind.DISPATCHED, T0), alone.event(CaseEventKind.DISPATCHED, T0))
        await wait_seq(sla, lead.case_id, 1)
        await wait_seq(sla, alone.case_id, 1)
        await sla.fire_due(T0 + timedelta(hours=6))
        listed = (await client.get("/v1/sla/overdue", params={"assisting": f"HELP-{uid}"})).json()
        assert [(o["case_id"], o["owner"], o["assisting"]) for o in listed["items"]] == [
            (lead.case_id, f"LEAD-{uid}", [f"HELP-{uid}", f"AID-{uid}"])]  # the lead's stage, found by 协办
        assert listed["counts"]["assisting"] == {f"HELP-{uid}": 1, f"AID-{uid}": 1} and listed["total"] == 1
        by_lead = (await client.get("/v1/sla/overdue", params={"department": f"LEAD-{uid}"})).json()
        assert by_lead["total"] == 2 and by_lead["counts"]["assisting"] == {f"HELP-{uid}": 1, f"AID-{uid}": 1}
        assert (await client.get("/v1/sla/due-soon", params={"assisting": f"HELP-{uid}"})).json()["total"] == 0
        case = (await client.get(f"/v1/sla/cases/{lead.case_id}")).json()
        assert case["deadlines"][0]["assisting"] == [f"HELP-{uid}", f"AID-{uid}"]


def escalate_to(router: Router, level: Level, owner: str) -> None:
    """What the router does on escalation_decided: the new holder at the next rung."""
    router.assignment = router.assignment.model_copy(update={"level": level, "owner": owner})


async def test_warnings_breach_each_rung_and_its_numbered_document(stack: Stack, topics: TopicReader,
                                                                  uid: str) -> None:
    router = Router(f"C-SLA-L-{uid}", f"G-{uid}")  # accept 2h natural, ladder community → street → district
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0))
        await wait_seq(sla, router.case_id, 1)
        await sla.fire_due(T0 + timedelta(hours=1))  # 50 %
        await sla.fire_due(T0 + timedelta(minutes=100))  # 80 %
        await sla.fire_due(T0 + timedelta(hours=2, minutes=1))  # breach → community, warning letter
        escalate_to(router, Level.COMMUNITY, f"CM-{uid}")
        await send(p, router.event(CaseEventKind.ESCALATED, T0 + timedelta(hours=2, minutes=2)))
        await wait_seq(sla, router.case_id, 2)
        listed = (await client.get("/v1/sla/overdue", params={"department": f"CM-{uid}"})).json()["items"]
        assert [(o["case_id"], o["rung"], o["level"]) for o in listed] == [(router.case_id, 1, "community")]
        await sla.fire_due(T0 + timedelta(hours=4, minutes=3))  # the new holder's accept breached → street
        escalate_to(router, Level.STREET, f"ST-{uid}")
        await send(p, router.event(CaseEventKind.ESCALATED, T0 + timedelta(hours=4, minutes=4)))
        await wait_seq(sla, router.case_id, 3)
        documents = (await client.get(f"/v1/sla/cases/{router.case_id}/documents")).json()
        assert [d["kind"] for d in documents] == ["risk_warning_letter", "accountability_letter"]
        first = (await client.get(documents[0]["url"])).json()
        assert first["doc_no"].startswith("通江警示〔2025〕") and first["case_id"] == router.case_id
        printable = await client.get(f"/v1/sla/documents/{first['doc_id']}.html")
        assert printable.status_code == 200 and printable.headers["content-type"].startswith("text/html")
        assert first["doc_no"] in printable.text and "信访风险警示函" in printable.text
        assert (await client.get("/v1/sla/documents/TJ-1999-DB-9999")).status_code == 404
    events = await sla_events(topics, router.case_id, 9)
    kinds = [(e["kind"], e.get("warn_share")) for e in events]
    assert kinds[:4] == [("deadline_set", None), ("warned", 0.5), ("warned", 0.8), ("overdue", None)]
    decisions = [e for e in events if e["kind"] == "escalation_decided"]
    assert [(d["to_level"], d["document_id"]) for d in decisions] == [
        ("community", documents[0]["doc_id"]), ("street", documents[1]["doc_id"])]
    assert decisions[0]["document_text"].startswith("信访风险警示函\n" + first["doc_no"])


async def test_two_replicas_share_the_timer_and_fire_each_deadline_once(stack: Stack, uid: str) -> None:
    routers = [Router(f"C-SLA-R{i}-{uid}", f"RP-{uid}", level=Level.DISTRICT, accept="1h") for i in range(40)]
    async with running_sla(stack) as (one, client), running_sla(stack) as (two, _), producer(stack) as p:
        one.context.timer_batch = two.context.timer_batch = 7  # several batches each, interleaved
        early = T0 - timedelta(days=60)  # before every other test's clocks: only these 40 are due
        await send(p, *[r.event(CaseEventKind.DISPATCHED, early) for r in routers])
        for r in routers:
            await wait_seq(one, r.case_id, 1)
        now = early + timedelta(hours=2)
        fired = await asyncio.gather(one.fire_due(now), two.fire_due(now))
        assert sum(fired) == 40  # district level, ladder without supervision: overdue only, one per deadline
        listed = (await client.get("/v1/sla/overdue", params={"department": f"RP-{uid}", "limit": 100})).json()
        assert listed["total"] == 40 and len({o["case_id"] for o in listed["items"]}) == 40


class Crash(Exception):
    """Stands for kill -9 at a point of the timer's batch (what PostgreSQL sees: the transaction is gone)."""


def crash_at(stage: str, call: int) -> Callable[[str, int], None]:
    """A chaos hook that crashes the `call`-th time the timer reaches `stage`."""
    seen = Counter[str]()

    def hook(at: str, size: int) -> None:
        seen[at] += 1
        if at == stage and seen[at] == call:
            raise Crash(f"{stage} #{call} ({size} stages)")

    return hook


async def test_a_crash_in_the_middle_of_a_timer_batch_fires_each_deadline_once(stack: Stack, topics: TopicReader,
                                                                                uid: str) -> None:
    routers = [Router(f"C-SLA-K{i:02d}-{uid}", f"KB-{uid}", accept="1h") for i in range(12)]  # grid → community
    early = T0 - timedelta(days=90)  # before every other test's clocks (and in another year): only these are due
    now = early + timedelta(hours=2)
    async with running_sla(stack) as (sla, _), producer(stack) as p:
        await send(p, *[r.event(CaseEventKind.DISPATCHED, early) for r in routers])
        for r in routers:
            await wait_seq(sla, r.case_id, 1)
        sla.context.timer_batch = 5
        sla.context.chaos = crash_at("after_db_commit", 1)  # the first batch is durable, then the process dies
        with pytest.raises(Crash):
            await sla.fire_due(now)
    async with running_sla(stack) as (sla, _):  # restarted: dies inside its second batch, before the commit
        sla.context.timer_batch = 5
        sla.context.chaos = crash_at("in_transaction", 2)
        with pytest.raises(Crash):
            await sla.fire_due(now)
        in_flight = await sla.pool.fetchval(
            "SELECT count(*) FROM deadlines WHERE case_id LIKE $1 AND state = 'overdue'", f"C-SLA-K%-{uid}")
        assert in_flight == 10  # two batches of five committed; the crashed one gave its five back
    async with running_sla(stack) as (sla, client):  # restarted again: fires the rest
        sla.context.timer_batch = 5
        assert await sla.fire_due(now) == 2 * 2  # the last two stages: overdue + escalation_decided each
        assert await sla.fire_due(now) == 0
        escalations = await sla.pool.fetch("SELECT case_id, escalations FROM sla_cases WHERE case_id LIKE $1",
                                           f"C-SLA-K%-{uid}")
        assert sorted(r["escalations"] for r in escalations) == [1] * 12
        documents = [row for r in routers for row in (await client.get(f"/v1/sla/cases/{r.case_id}/documents")).json()]
        assert [d["kind"] for d in documents] == ["risk_warning_letter"] * 12  # one per decision
        serials = sorted(d["serial"] for d in documents)
        assert serials == list(range(serials[0], serials[0] + 12))  # numbers of the crashed batch given back
        for r in routers:  # read while this sla's outbox relay runs: the last batch's events may still be in its outbox
            events = await sla_events(topics, r.case_id, 3, settle=0.5)
            assert [e["kind"] for e in events] == ["deadline_set", "overdue", "escalation_decided"]


async def test_a_pending_extension_pauses_and_approval_moves_the_deadline(stack: Stack, topics: TopicReader,
                                                                         uid: str) -> None:
    router = Router(f"C-SLA-X-{uid}", "CG")
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0),
                   router.event(CaseEventKind.ACCEPTED, T0 + timedelta(minutes=10)),  # handle due T0+1d+10m
                   router.event(CaseEventKind.EXTENSION_REQUESTED, T0 + timedelta(hours=12, minutes=10)))
        await wait_seq(sla, router.case_id, 3)
        await sla.fire_due(T0 + timedelta(days=3))  # past the old deadline, but paused: not due
        paused = (await client.get(f"/v1/sla/cases/{router.case_id}")).json()["deadlines"][1]
        assert (paused["state"], paused["due"], paused["remaining_seconds"]) == ("paused", None, 12 * 3600)
        await send(p, router.event(CaseEventKind.EXTENDED, T0 + timedelta(days=3), extension_hours=24))
        await wait_seq(sla, router.case_id, 4)
        case = (await client.get(f"/v1/sla/cases/{router.case_id}")).json()
        handle = case["deadlines"][1]
        assert handle["state"] == "running"
        assert datetime.fromisoformat(handle["due"]) == T0 + timedelta(days=4, hours=12)  # 12 h left + 24 h


async def test_reopen_restarts_handling_and_close_ends_the_clock(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-O-{uid}", "CG")
    async with running_sla(stack) as (sla, client), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0),
                   router.event(CaseEventKind.ACCEPTED, T0 + timedelta(minutes=5)),
                   router.event(CaseEventKind.RESOLVED, T0 + timedelta(hours=1)),
                   router.event(CaseEventKind.REOPENED, T0 + timedelta(hours=2)),
                   router.event(CaseEventKind.RESOLVED, T0 + timedelta(hours=3)),
                   router.event(CaseEventKind.CLOSED, T0 + timedelta(hours=4)))
        await wait_seq(sla, router.case_id, 6)
        await sla.fire_due(T0 + timedelta(days=5))  # nothing of this case is left running
        case = (await client.get(f"/v1/sla/cases/{router.case_id}")).json()
    assert [(d["stage"], d["state"]) for d in case["deadlines"]] == [
        ("accept", "met"), ("handle", "met"), ("verify", "met"), ("handle", "met"), ("verify", "met")]


async def test_a_restart_keeps_pending_deadlines_and_fires_them(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-P-{uid}", f"PD-{uid}", level=Level.DISTRICT)
    async with running_sla(stack) as (sla, _), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0))
        await wait_seq(sla, router.case_id, 1)
    async with running_sla(stack) as (sla, client):  # a new process: the deadline is in PostgreSQL
        assert await sla.fire_due(T0 + timedelta(hours=3)) >= 1
        listed = (await client.get("/v1/sla/overdue", params={"department": f"PD-{uid}"})).json()
        assert [o["case_id"] for o in listed["items"]] == [router.case_id]


async def test_events_the_timer_fires_continue_the_cases_trace(stack: Stack, topics: TopicReader, uid: str) -> None:
    router = Router(f"C-SLA-T-{uid}", f"TR-{uid}", level=Level.DISTRICT)
    trace_id = uuid.uuid4().hex
    async with running_sla(stack) as (sla, _), producer(stack) as p:
        await send(p, router.event(CaseEventKind.DISPATCHED, T0), traceparent=f"00-{trace_id}-{'1' * 16}-01")
        await wait_seq(sla, router.case_id, 1)
        await sla.fire_due(T0 + timedelta(hours=3))  # long after the case event: fired by the timer
    found = await topics.collect(SLA_EVENTS, lambda e: e.subject == router.case_id, expect=2, timeout=60)
    assert [json.loads(e.data)["kind"] for e in found] == ["deadline_set", "overdue"]
    assert all(e.traceparent and e.traceparent.split("-")[1] == trace_id for e in found)
