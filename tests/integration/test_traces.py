"""One trace per incident, from the maintained instrumentation: intake's request span (FastAPI), its
Kafka PRODUCER span (aiokafka), the router's processing and its database spans (asyncpg), the relay's
send of the case events, sla's handling and — hours later on its clock — the timer's breach, and
scoring's handling: all under the trace id intake answered with in `traceparent`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from deploy.local.stack import Stack
from schemas.topics import CASE_EVENTS, INTAKE_HOTLINE, SLA_EVENTS
from services.scoring.app import create_app as scoring_app
from services.scoring.settings import ScoringSettings
from services.sla.app import create_app as sla_app
from services.sla.bootstrap import Sla
from services.sla.settings import SlaSettings
from tests.integration.conftest import Places, TopicReader, recorded_spans, serve
from tests.integration.intake_support import HOTLINE_KEY, NOT_URGENT, ticket
from tests.integration.router_support import wait_for_case
from tests.integration.test_scoring import input_end_offsets, start_group_at

pytestmark = pytest.mark.integration


@pytest.fixture
def spans(intake_client: httpx.AsyncClient) -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


@pytest_asyncio.fixture(loop_scope="session")
async def downstream(stack: Stack, uid: str) -> AsyncIterator[Sla]:
    """sla (its timer driven by the test's clock) and scoring, on groups starting at the topics' ends."""
    base = {"kafka_bootstrap": stack.bootstrap, "database_url": stack.database_url}
    sla = SlaSettings(**base, schema_name=f"sla_tr{uid.lower()}", group_id=f"sla-traces-{uid}",
                      timer_enabled=False)
    scoring = ScoringSettings(**base, schema_name=f"scoring_tr{uid.lower()}", group_id=f"scoring-traces-{uid}",
                              from_committed=True)
    offsets = await input_end_offsets(stack.bootstrap)
    for group in (sla.group_id, scoring.group_id):
        await start_group_at(stack.bootstrap, group, offsets)
    sla_service = sla_app(sla)
    async with serve(sla_service), serve(scoring_app(scoring)):
        yield sla_service.state.sla


def in_trace(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]


async def test_an_incident_is_one_trace_across_every_service(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, places: Places, topics: TopicReader,
    spans: InMemorySpanExporter, downstream: Sla, uid: str,
) -> None:
    grid = places.take()
    body = ticket(f"T-{uid}", text=NOT_URGENT, address=None,
                  point={"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]})
    accepted = await intake_client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    assert accepted.status_code == 202
    trace_id = int(accepted.headers["traceparent"].split("-")[1], 16)
    case_id = f"C-{accepted.json()['incident_id']}"
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched", timeout=60)
    [deadline_set] = await topics.collect(SLA_EVENTS, lambda e: e.subject == case_id, timeout=60)
    assert int(deadline_set.traceparent.split("-")[1], 16) == trace_id  # type: ignore[union-attr]

    assert await downstream.fire_due(datetime.now(UTC) + timedelta(days=60)) > 0  # its clock runs out
    breaches = await topics.collect(SLA_EVENTS, lambda e: e.subject == case_id and "overdue" in e.type,
                                    timeout=60)
    assert int(breaches[0].traceparent.split("-")[1], 16) == trace_id  # type: ignore[union-attr]

    found = in_trace(spans, trace_id)
    names = {(s.name, s.kind) for s in found}
    assert ("POST /v1/hotline/tickets", trace.SpanKind.SERVER) in names  # runtime/http_telemetry.py
    intake_servers = [s for s in found if s.kind == trace.SpanKind.SERVER and s.name.startswith("POST /v1/hotline")]
    assert len(intake_servers) == 1  # one SERVER span per request (not FastAPI's native one beside ours)
    assert (f"{INTAKE_HOTLINE} send", trace.SpanKind.PRODUCER) in names  # aiokafka, intake's publish
    assert (f"{INTAKE_HOTLINE} process", trace.SpanKind.CONSUMER) in names  # router
    assert (f"{CASE_EVENTS} send", trace.SpanKind.PRODUCER) in names  # router's outbox relay
    relay_sends = [s for s in found if s.name == f"{CASE_EVENTS} send"]
    # the relay sends a batch's records of one trace under one span (runtime/produce.py), not one per record
    assert all(s.attributes and s.attributes.get("messaging.batch.message_count", 0) >= 1 for s in relay_sends)
    assert (f"{CASE_EVENTS} process", trace.SpanKind.CONSUMER) in names  # sla and scoring
    assert (f"{SLA_EVENTS} send", trace.SpanKind.PRODUCER) in names  # sla's relay
    assert (f"{SLA_EVENTS} process", trace.SpanKind.CONSUMER) in names  # router and scoring
    assert (f"{CASE_EVENTS} receive", trace.SpanKind.CONSUMER) in names  # aiokafka, on the consumer side
    assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in found)  # asyncpg
