"""Open311 GeoReport v2: the responsibility list as services, requests on intake.hotline.v1 (channel
open311) exactly once, status by id, and GeoReport's error format for every refusal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import keyed, mentioning, payload, published
from tests.integration.intake_support import intake_settings

pytestmark = pytest.mark.integration
KEY = "dev-open311-key"


def form(request_id: str | None, **overrides: str) -> dict[str, str]:
    body = {"api_key": KEY, "service_code": "A01.001", "lat": "32.0201", "long": "120.9102",
            "address_string": "通江区人民东路128号", "description": "路边垃圾堆了好几天，联系13812345678",
            "phone": "13812345678", "first_name": "建国", "last_name": "王", "device_id": "dev-1"}
    if request_id:
        body["attribute[request_id]"] = request_id
    body.update(overrides)
    return body


async def test_services_are_the_responsibility_items(stack: Stack) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.get("/open311/v2/services.json")
    services = answer.json()
    assert answer.status_code == 200 and len(services) >= 100
    assert len({s["service_code"] for s in services}) == len(services)
    first = next(s for s in services if s["service_code"] == "A01.001")
    assert first == {"service_code": "A01.001", "service_name": "暴露垃圾、垃圾乱堆乱放",
                     "description": "暴露垃圾、垃圾乱堆乱放", "metadata": False, "type": "realtime",
                     "keywords": "", "group": "城市管理类"}


async def test_a_request_lands_once_on_the_hotline_topic_and_a_retry_is_idempotent(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        first = await client.post("/open311/v2/requests.json", data=form(f"R-{uid}"))
        retries = await asyncio.gather(*(client.post("/open311/v2/requests.json", data=form(f"R-{uid}"))
                                         for _ in range(5)))
        created = first.json()[0]
        status = await client.get(f"/open311/v2/requests/{created['service_request_id']}.json")
    assert first.status_code == 200, first.text
    assert created["service_request_id"].startswith("OS-") and created["service_notice"]
    assert {r.json()[0]["service_request_id"] for r in retries} == {created["service_request_id"]}
    found = await topics.collect(INTAKE_HOTLINE, keyed(f"open311:R-{uid}"), expect=1, settle=2.0)
    assert len(found) == 1
    event, raw = payload(found[0]), found[0].data.decode()
    assert event["channel"] == "open311" and event["incident_id"] == created["service_request_id"]
    assert event["category_code"] == "A01.001" and event["location"]["point"] == {"lon": 120.9102, "lat": 32.0201}
    assert event["reporter"]["contact_masked"] == "138****5678" and event["reporter"]["name"] == "王**"
    assert "13812345678" not in raw and "建国" not in raw
    assert status.status_code == 200
    [state] = status.json()
    assert state["status"] == "open" and state["case_id"] == f"C-{created['service_request_id']}"
    assert state["case_url"].endswith(f"/v1/cases/C-{created['service_request_id']}")


async def test_without_a_request_id_the_same_form_is_the_same_request(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    body = form(None, description=f"井盖破损 {uid}", email=f"z{uid}@example.cn", phone="")
    async with serve(create_app(intake_settings(stack))) as client:
        first = await client.post("/open311/v2/requests.json", data=body)
        again = await client.post("/open311/v2/requests.json", data={**body, "api_key": KEY})
    assert first.status_code == 200 and first.json() == again.json()
    found = await topics.collect(INTAKE_HOTLINE, mentioning(uid), expect=1, settle=2.0)
    assert len(found) == 1 and payload(found[0])["reporter"]["contact_masked"] == "z***@example.cn"
    assert f"z{uid}@example.cn" not in found[0].data.decode()


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"api_key": ""}, 401, "api_key"),
    ({"api_key": "dev-hotline-key"}, 403, "Open311"),
    ({"service_code": "Z99.999"}, 400, "service_code"),
    ({"lat": "91", "long": "120"}, 400, "lat"),
    ({"lat": "", "long": "", "address_string": ""}, 400, "location"),
    ({"media_url": "ftp://x"}, 400, "media_url"),
    ({"phone": "call me maybe"}, 400, "phone"),
])
async def test_refusals_use_georeport_errors_and_publish_nothing(
    stack: Stack, uid: str, body: dict[str, str], status: int, says: str
) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post("/open311/v2/requests.json", data=form(f"E-{uid}", **body))
    assert answer.status_code == status, answer.text
    [problem] = answer.json()[:1]
    assert problem["code"] == status and says in problem["description"]
    assert await published(stack, INTAKE_HOTLINE, keyed(f"open311:E-{uid}")) == []


async def test_a_request_id_reused_for_another_request_is_a_conflict(stack: Stack, uid: str) -> None:
    async with serve(create_app(intake_settings(stack))) as client:
        first = await client.post("/open311/v2/requests.json", data=form(f"C-{uid}"))
        other = await client.post("/open311/v2/requests.json", data=form(f"C-{uid}", service_code="A01.002"))
        unknown = await client.get("/open311/v2/requests/OS-0000000000000000.json")
        not_ours = await client.get("/open311/v2/requests/HL-0000000000000000.json")
    assert first.status_code == 200 and other.status_code == 409 and other.json()[0]["code"] == 409
    assert unknown.status_code == 404 and not_ours.status_code == 404 and unknown.json()[0]["code"] == 404


async def test_the_open311_api_is_documented_with_an_example(stack: Stack) -> None:
    spec: dict[str, Any] = create_app(intake_settings(stack)).openapi()
    post = spec["paths"]["/open311/v2/requests.json"]["post"]
    example = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["example"]
    assert example["service_code"] and "attribute[request_id]" in example
