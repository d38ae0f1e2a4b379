"""Open311 GeoReport v2 `GET requests.json`: requests with their case's status (intake's read model of
case.events.v1 and sla.events.v1), the agency responsible by name, the SLA deadline, and the filters:
id list (overrides the rest), service_code, date span (≤ 90 days), status, page/page_size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.stack import Stack
from runtime.kafka import make_producer, publish
from schemas.cloudevents import encode
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from schemas.topics import SLA_EVENTS, sla_type
from services.intake.app import create_app
from tests.integration.conftest import Places, serve
from tests.integration.intake_support import DEPT_KEY, intake_settings
from tests.integration.router_support import wait_for_case

pytestmark = pytest.mark.integration
KEY = "dev-open311-key"
PHONE = "13812345678"


def form(request_id: str, code: str, grid: dict[str, Any]) -> dict[str, str]:
    return {"api_key": KEY, "service_code": code, "lat": str(grid["centroid_lat"]),
            "long": str(grid["centroid_lon"]), "description": f"这里有问题好几天了，联系{PHONE}",
            "phone": PHONE, "first_name": "建国", "last_name": "王",
            "media_url": "https://img.example.cn/p.jpg", "attribute[request_id]": request_id}


async def listed(client: httpx.AsyncClient, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 60,
                 **params: str) -> list[dict[str, Any]]:
    """Poll GET requests.json until `until` holds (the status arrives through Kafka)."""
    loop = asyncio.get_running_loop()
    deadline, last = loop.time() + timeout, []
    while loop.time() < deadline:
        resp = await client.get("/open311/v2/requests.json", params=params)
        assert resp.status_code == 200, resp.text
        assert PHONE not in resp.text and "建国" not in resp.text
        if until(last := resp.json()):
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"requests.json never got there: {last}")


async def act(client: httpx.AsyncClient, router: httpx.AsyncClient, case_id: str, kind: str, actor: str,
              state: str, **fields: Any) -> None:
    body = {"action_id": f"{kind}-{case_id}", "kind": kind, "actor": actor,
            "taken_at": datetime.now(UTC).isoformat(), **fields}
    resp = await client.post(f"/v1/cases/{case_id}/actions", json=body, headers=DEPT_KEY)
    assert resp.status_code == 202, resp.text
    await wait_for_case(router, case_id, lambda c: c["state"] == state, timeout=60)


async def test_requests_follow_their_cases_and_filter(
    stack: Stack, city_dir: Path, places: Places, router_client: httpx.AsyncClient, uid: str
) -> None:
    app = create_app(intake_settings(stack, open311_city_dir=city_dir))
    async with serve(app) as client:
        codes = ["A01.001", "A01.001", "A04.001"]
        ids = []
        for i, code in enumerate(codes):
            resp = await client.post("/open311/v2/requests.json", data=form(f"L-{uid}-{i}", code, places.take()))
            assert resp.status_code == 200, resp.text
            ids.append(resp.json()[0]["service_request_id"])
        cases = [await wait_for_case(router_client, f"C-{i}", lambda c: c["state"] == "dispatched", timeout=60)
                 for i in ids]

        every = await listed(client, lambda rs: len(rs) == 3 and all(r["agency_responsible"] for r in rs),
                             service_request_id=",".join(ids), service_code="B01.001", status="closed")
        assert {r["service_request_id"] for r in every} == set(ids)  # the id list overrides the other filters
        first = next(r for r in every if r["service_request_id"] == ids[0])
        grid_id = cases[0]["assignment"]["grid_id"]
        assert first["status"] == "open" and first["service_code"] == "A01.001"
        assert first["agency_responsible"] != grid_id and "网格" in first["agency_responsible"]  # the grid's name
        assert first["status_notes"].startswith("已派遣") and first["media_url"] == "https://img.example.cn/p.jpg"
        assert "****" in first["description"]  # the typed phone number is masked

        # expected_datetime is the SLA deadline of the open stage
        due = datetime.now(UTC) + timedelta(hours=5)
        producer = make_producer(stack.bootstrap, client_id="test-sla")
        await producer.start()
        try:
            event = SlaEvent(event_id=f"SLA-{uid}", case_id=f"C-{ids[2]}", kind=SlaEventKind.DEADLINE_SET,
                             stage=SlaStage.ACCEPT, deadline=due, at=datetime.now(UTC))
            await publish(producer, [encode(SLA_EVENTS, event.case_id, event, type=sla_type("deadline_set"),
                                            source="/test/sla", subject=event.case_id, event_id=event.event_id)])
        finally:
            await producer.stop()
        [third] = await listed(client, lambda rs: bool(rs and rs[0]["expected_datetime"]), service_request_id=ids[2])
        assert datetime.fromisoformat(third["expected_datetime"]) == due

        window = {"start_date": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                  "end_date": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
        by_code = await listed(client, lambda rs: ids[2] in {r["service_request_id"] for r in rs},
                               service_code="A04.001", **window)
        assert {r["service_code"] for r in by_code} == {"A04.001"}
        assert not {ids[0], ids[1]} & {r["service_request_id"] for r in by_code}

        # closed when the case is closed: 签收 → 办结 → 核查 → 回访
        case = cases[0]
        owner = case["assignment"]["owner_unit"] or case["assignment"]["owner"]
        await act(client, router_client, case["case_id"], "accept", owner, "accepted")
        await act(client, router_client, case["case_id"], "resolve", owner, "resolved",
                  evidence_urls=["https://img.example.cn/done.jpg"])
        await act(client, router_client, case["case_id"], "verify", "CENTER", "verified", passed=True)
        await act(client, router_client, case["case_id"], "rate", "CENTER:回访", "closed", satisfaction=5)
        closed = await listed(client, lambda rs: ids[0] in {r["service_request_id"] for r in rs},
                              status="closed", **window)
        assert all(r["status"] == "closed" for r in closed)
        done = next(r for r in closed if r["service_request_id"] == ids[0])
        assert done["status_notes"].startswith("已结案") and done["updated_datetime"] > first["updated_datetime"]
        still_open = await listed(client, lambda rs: ids[1] in {r["service_request_id"] for r in rs},
                                  status="open", **window)
        assert ids[0] not in {r["service_request_id"] for r in still_open}

        # page/page_size: newest first, pages do not overlap
        pages = [await listed(client, lambda rs: len(rs) == 1, service_request_id=",".join(ids), page_size="1",
                              page=str(n)) for n in (1, 2, 3)]
        assert [p[0]["service_request_id"] for p in pages] == list(reversed(ids))

        single = await client.get(f"/open311/v2/requests/{ids[0]}.json")
        assert single.json()[0]["status"] == "closed" and single.json()[0]["case_id"] == f"C-{ids[0]}"


@pytest.mark.parametrize(("params", "says"), [
    ({"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-05-01T00:00:00+08:00"}, "90 days"),
    ({"status": "pending"}, "open or closed"),
    ({"page_size": "1001"}, "page_size"),
    ({"start_date": "2026-01-01"}, "w3c date-times"),
])
async def test_bad_filters_are_georeport_errors(stack: Stack, params: dict[str, str], says: str) -> None:
    async with serve(create_app(intake_settings(stack, open311_status_enabled=False))) as client:
        resp = await client.get("/open311/v2/requests.json", params=params)
    assert resp.status_code == 400 and resp.json()[0]["code"] == 400 and says in resp.json()[0]["description"]


async def test_dates_default_to_the_last_90_days(stack: Stack, uid: str, places: Places) -> None:
    async with serve(create_app(intake_settings(stack, open311_status_enabled=False))) as client:
        resp = await client.post("/open311/v2/requests.json", data=form(f"D-{uid}", "A01.006", places.take()))
        new_id = resp.json()[0]["service_request_id"]
        recent = await client.get("/open311/v2/requests.json")
        old = await client.get("/open311/v2/requests.json", params={"end_date": "2026-01-01T00:00:00+08:00"})
    assert new_id in {r["service_request_id"] for r in recent.json()} and len(recent.json()) <= 1000
    assert new_id not in {r["service_request_id"] for r in old.json()}
