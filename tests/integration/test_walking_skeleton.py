"""End to end: a 12345 ticket POSTed to intake becomes a dispatched case on case.events.v1."""

from __future__ import annotations

import json

import httpx
import pytest

from schemas.topics import CASE_EVENTS
from tests.integration.conftest import Places, TopicReader
from tests.integration.intake_support import HOTLINE_KEY, ticket

pytestmark = pytest.mark.integration


async def test_hotline_ticket_becomes_a_dispatched_case(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, topics: TopicReader, uid: str,
    places: Places,
) -> None:
    grid = places.take()
    body = ticket(f"W-{uid}", text="楼下垃圾堆了好几天没人清理，乱堆乱放，臭气熏天", address=None,
                  point={"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]})
    accepted = await intake_client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    assert accepted.status_code == 202, accepted.text
    case_id = f"C-{accepted.json()['incident_id']}"
    events = await topics.collect(CASE_EVENTS, lambda e: e.subject == case_id, expect=2, timeout=60)
    kinds = [e.type for e in events]
    assert kinds == ["gov.gridline.case.created.v1", "gov.gridline.case.dispatched.v1"]
    dispatched = json.loads(events[1].data)
    assert dispatched["assignment"]["grid_id"]
    assert dispatched["assignment"]["item_name"]
    assert events[0].traceparent is not None
    assert _trace_id(events[0].traceparent) == _trace_id(accepted.headers["traceparent"])  # one trace, two hops
    case = (await router_client.get(f"/v1/cases/{case_id}")).json()
    assert case["state"] == "dispatched"
    assert case["explanation"]["location"]["method"] == "point"
    assert case["assignment"]["grid_id"] == grid["grid_id"]
    assert [t["kind"] for t in case["timeline"]] == ["created", "dispatched"]


def _trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]
