"""The database goes away and comes back: intake answers 503 + Retry-After meanwhile (never a 500,
never a false 202); sla — its consumer, outbox relay and timer loop — is reported not ready while the
outage lasts and becomes ready and publishes again by itself, without a restart.

The outage is a TCP proxy in front of the session's PostgreSQL that drops every connection and refuses
new ones (tests/integration/faults.py), so the other tests' server is never disturbed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest

from deploy.local.stack import Stack
from schemas.case import CaseEventKind
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app as intake_app
from services.sla.app import create_app as sla_app
from services.sla.settings import SlaSettings
from tests.integration.conftest import TopicReader, serve
from tests.integration.faults import TcpProxy
from tests.integration.intake_probe import keyed, ledger, published
from tests.integration.intake_support import HOTLINE_KEY, intake_settings, ticket
from tests.integration.test_sla import T0, Router, producer, send, sla_events

pytestmark = pytest.mark.integration


@asynccontextmanager
async def proxied(stack: Stack) -> AsyncIterator[TcpProxy]:
    proxy = await TcpProxy.for_url(stack.database_url).start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def readiness(client: httpx.AsyncClient, want: int, within: float = 90.0) -> dict[str, bool]:
    """Poll /readyz until it answers `want`; return its checks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        answer = await client.get("/readyz")
        if answer.status_code == want:
            checks: dict[str, bool] = answer.json()["checks"]
            return checks
        if loop.time() > deadline:
            raise AssertionError(f"/readyz stayed {answer.status_code}: {answer.text}")
        await asyncio.sleep(0.3)


async def test_intake_answers_503_with_retry_after_while_the_database_is_down(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    no = f"DBDOWN-{uid}"
    async with proxied(stack) as proxy:
        app = intake_app(intake_settings(stack, database_url=proxy.url(stack.database_url)))
        async with serve(app) as client:
            warm = await client.post("/v1/hotline/tickets", json=ticket(f"DBWARM-{uid}"), headers=HOTLINE_KEY)
            assert warm.status_code == 202, warm.text
            await proxy.cut()
            refused = [await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
                       for _ in range(3)]
            assert {r.status_code for r in refused} == {503}, [r.text for r in refused]
            assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
            assert "nothing accepted" in refused[0].json()["detail"]
            assert (await readiness(client, 503))["database"] is False
            await proxy.restore()
            await readiness(client, 200)
            accepted = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["duplicate"] is False  # the refused attempts left nothing behind
    assert len(await ledger(stack, no)) == 1
    assert len(await published(stack, INTAKE_HOTLINE, keyed(no))) == 1
    assert len(await topics.collect(INTAKE_HOTLINE, keyed(no), expect=1, settle=2.0)) == 1


async def test_sla_is_not_ready_during_a_database_outage_and_recovers_by_itself(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    before, after = Router(f"C-DBO-{uid}", "CG"), Router(f"C-DBO2-{uid}", "CG")
    async with proxied(stack) as proxy:
        settings = SlaSettings(kafka_bootstrap=stack.bootstrap, database_url=proxy.url(stack.database_url),
                               schema_name="sla_outage", group_id=f"gridline-sla-outage-{uid}",
                               timer_enabled=True, timer_interval_seconds=0.2)
        app = sla_app(settings)
        async with serve(app) as client, producer(stack) as p:
            await readiness(client, 200)
            await send(p, before.event(CaseEventKind.DISPATCHED, T0))
            assert [e["kind"] for e in await sla_events(topics, before.case_id, 1)] == ["deadline_set"]
            await proxy.cut()
            checks = await readiness(client, 503)
            assert checks["database"] is False and checks["kafka"] is True
            await send(p, after.event(CaseEventKind.DISPATCHED, T0 + timedelta(minutes=1)))
            loops = app.state.sla.loops
            for _ in range(600):  # until a loop has met the outage
                if any(r["restarts"] for r in loops.report().values()):
                    break
                await asyncio.sleep(0.1)
            await proxy.restore()
            checks = await readiness(client, 200)  # by itself: nobody restarts anything
            assert all(checks.values()), checks
            # consumer, outbox relay and timer work again: the event sent during the outage sets its
            # deadline, and the timer finds it overdue (its clock is today, the case is from 2025).
            # The relay may publish a record again under the same ce_id if the outage struck between
            # the broker's ack and marking it sent: consumers de-duplicate by ce_id.
            events = await sla_events(topics, after.case_id, 2, settle=2.0)
            unique = {e["event_id"]: e for e in events}
            kinds = [e["kind"] for e in unique.values()]
            assert kinds[0] == "deadline_set" and "overdue" in kinds, kinds
            assert datetime.fromisoformat(events[0]["deadline"]) == T0 + timedelta(minutes=1, hours=2)
            assert all(r["healthy"] for r in loops.report().values()), loops.report()
