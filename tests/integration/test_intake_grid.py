"""Grid workers' app adapter: a bearer token bound to the worker, exactly once on intake.grid.v1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_GRID
from services.intake.app import create_app
from services.intake.domain.credentials import issue_worker_token
from services.intake.settings import IntakeSettings
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import keyed, payload, published
from tests.integration.intake_support import intake_settings

pytestmark = pytest.mark.integration
URL = "/v1/grid/reports"


def report(report_id: str, worker: str = "W0001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report_id, "worker_id": worker, "grid_id": "TJ-HP-001", "category_code": "A01.003",
        "point": {"lon": 120.91, "lat": 32.02}, "photo_urls": ["https://img.example.cn/a.jpg"],
        "text": "人民东路路面脏乱，落叶堆积，联系人13812345678", "reported_at": "2026-11-23T09:15:00+08:00",
    }
    body.update(overrides)
    return body


def bearer(settings: IntakeSettings, worker: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_worker_token(settings.worker_token_secret, worker)}"}


async def test_a_report_lands_once_on_the_grid_topic_under_concurrent_duplicates(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    rid = f"GR-{uid}"
    async with serve(create_app(settings)) as client:
        answers = await asyncio.gather(*(
            client.post(URL, json=report(rid), headers=bearer(settings, "W0001")) for _ in range(10)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["incident_id"] for a in answers}) == 1
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 9
    found = await topics.collect(INTAKE_GRID, keyed(rid), expect=1, settle=2.0)
    assert len(found) == 1
    event = payload(found[0])
    assert event["incident_id"] == answers[0].json()["incident_id"] and event["channel"] == "grid"
    assert event["reporter"] == {"kind": "grid_worker", "id": "W0001", "name": None, "contact_masked": None,
                                 "contact_ref": None}
    assert event["category_code"] == "A01.003" and event["location"]["grid_id"] == "TJ-HP-001"
    assert "13812345678" not in found[0].data.decode()  # phone numbers typed into the text are masked


async def test_handled_on_the_spot_with_evidence_is_a_closed_at_once_incident(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    settings = intake_settings(stack)
    rid = f"GS-{uid}"
    body = report(rid, handled_on_spot=True, evidence_urls=["https://img.example.cn/after.jpg"])
    async with serve(create_app(settings)) as client:
        answer = await client.post(URL, json=body, headers=bearer(settings, "W0001"))
    assert answer.status_code == 202, answer.text
    found = await topics.collect(INTAKE_GRID, keyed(rid), expect=1)
    assert payload(found[0])["on_the_spot"]["evidence_urls"] == ["https://img.example.cn/after.jpg"]


async def test_handled_on_the_spot_without_evidence_is_a_422_naming_the_field(stack: Stack, uid: str) -> None:
    settings = intake_settings(stack)
    rid = f"GE-{uid}"
    async with serve(create_app(settings)) as client:
        answer = await client.post(URL, json=report(rid, handled_on_spot=True), headers=bearer(settings, "W0001"))
    assert answer.status_code == 422
    assert "evidence_urls" in str(answer.json()["detail"])
    assert await published(stack, INTAKE_GRID, keyed(rid)) == []


async def test_a_token_bound_to_another_worker_is_forbidden(stack: Stack, uid: str) -> None:
    settings = intake_settings(stack)
    rid = f"GW-{uid}"
    async with serve(create_app(settings)) as client:
        answer = await client.post(URL, json=report(rid, worker="W0001"), headers=bearer(settings, "W0002"))
    assert answer.status_code == 403 and "W0002" in answer.json()["detail"]
    assert await published(stack, INTAKE_GRID, keyed(rid)) == []


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dzE6cHc="},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Bearer gw1.W0001.forgedforgedforgedforged"},
    {"X-Api-Key": "dev-grid-app-key"},  # a system key does not make anyone a grid worker
])
async def test_a_missing_or_invalid_worker_token_is_unauthorized(
    stack: Stack, uid: str, headers: dict[str, str]
) -> None:
    rid = f"GU-{uid}"
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(URL, json=report(rid), headers=headers)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"]
    assert await published(stack, INTAKE_GRID, keyed(rid)) == []


async def test_a_token_signed_with_another_secret_is_unauthorized(stack: Stack, uid: str) -> None:
    rid = f"GX-{uid}"
    forged = IntakeSettings(worker_token_secret="someone-elses-secret")
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(URL, json=report(rid), headers=bearer(forged, "W0001"))
    assert answer.status_code == 401
    assert await published(stack, INTAKE_GRID, keyed(rid)) == []


async def test_the_same_report_id_with_another_body_is_a_conflict(stack: Stack, topics: TopicReader, uid: str) -> None:
    settings = intake_settings(stack)
    rid = f"GC-{uid}"
    async with serve(create_app(settings)) as client:
        first = await client.post(URL, json=report(rid), headers=bearer(settings, "W0001"))
        other = await client.post(URL, json=report(rid, text="另一件事：路灯不亮"), headers=bearer(settings, "W0001"))
    assert first.status_code == 202 and other.status_code == 409
    assert first.json()["incident_id"] in other.json()["detail"]
    assert len(await topics.collect(INTAKE_GRID, keyed(rid), expect=1, settle=1.0)) == 1
