"""Every service serves Prometheus metrics at /metrics: intake's responses by status and records out,
the router's records in (handled), handling latency, consumer lag, records out and cases per state."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas.topics import CASE_EVENTS, INTAKE_HOTLINE
from tests.integration.conftest import Places
from tests.integration.intake_support import HOTLINE_KEY, NOT_URGENT, ticket
from tests.integration.router_support import wait_for_case

pytestmark = pytest.mark.integration


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


async def test_metrics_show_the_path_of_an_incident(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, places: Places, uid: str
) -> None:
    before = await scrape(router_client)
    grid = places.take()
    body = ticket(f"M-{uid}", text=NOT_URGENT, address=None,
                  point={"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]})
    accepted = await intake_client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    assert accepted.status_code == 202
    bad = await intake_client.post("/v1/hotline/tickets", json={"ticket_no": "x"}, headers=HOTLINE_KEY)
    assert bad.status_code == 422
    await wait_for_case(router_client, f"C-{accepted.json()['incident_id']}",
                        lambda c: c["state"] == "dispatched", timeout=60)
    after = await scrape(intake_client)
    route = "/v1/hotline/tickets"

    def grew(name: str, **labels: str) -> bool:
        return value(after, name, **labels) > value(before, name, **labels)

    assert grew("gridline_http_responses_total", service="intake", route=route, status="202")
    assert grew("gridline_http_responses_total", service="intake", route=route, status="422")
    assert grew("gridline_records_out_total", service="intake", topic=INTAKE_HOTLINE)
    assert grew("gridline_http_seconds_count", service="intake", route=route)
    assert grew("gridline_records_in_total", service="router", topic=INTAKE_HOTLINE, outcome="handled")
    for _ in range(100):  # observed when the batch's offsets are committed, just after its transaction
        if grew("gridline_handling_seconds_count", service="router", topic=INTAKE_HOTLINE):
            break
        await asyncio.sleep(0.2)
        after = await scrape(intake_client)
    assert grew("gridline_handling_seconds_count", service="router", topic=INTAKE_HOTLINE)
    assert grew("gridline_records_out_total", service="router", topic=CASE_EVENTS)
    assert any(n == "gridline_consumer_lag" and ("service", "router") in ls for n, ls in after)


async def test_the_router_counts_cases_per_state(router_client: httpx.AsyncClient) -> None:
    for _ in range(80):  # refreshed every 15 s
        if "gridline_cases{" in (text := (await router_client.get("/metrics")).text):
            break
        await asyncio.sleep(0.5)
    assert re.search(r'^gridline_cases\{state="\w+"\} [1-9]', text, re.M), text[-2000:]
