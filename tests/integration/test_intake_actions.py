"""Department actions: intake.actions.v1 keyed by case id, per-kind required fields, and a department
source (`dept:<CODE>`) may only speak for its own department."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_ACTIONS
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import mentioning, payload, published
from tests.integration.intake_support import DEPT_KEY, HOTLINE_KEY, intake_settings

pytestmark = pytest.mark.integration
URBAN = {"X-Api-Key": "urban-mgmt-key"}


def settings_with_a_department(stack: Stack) -> IntakeSettings:
    base = intake_settings(stack)
    return intake_settings(
        stack,
        sources={**base.sources, "dept:URBAN_MGMT": "urban-mgmt-key"},
        source_channels={**base.source_channels, "dept:URBAN_MGMT": ["actions"]},
    )


def action(action_id: str, kind: str = "accept", actor: str = "URBAN_MGMT", **fields: Any) -> dict[str, Any]:
    return {"action_id": action_id, "kind": kind, "actor": actor, "taken_at": "2026-11-23T10:00:00+08:00",
            **fields}


async def test_an_action_lands_once_keyed_by_its_case_id_under_retries(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    case_id = f"C-HL-{uid}"
    url = f"/v1/cases/{case_id}/actions"
    body = action(f"A-{uid}", "resolve", evidence_urls=["https://img.example.cn/done.jpg"], note="已修复")
    async with serve(create_app(intake_settings(stack))) as client:
        answers = await asyncio.gather(*(client.post(url, json=body, headers=DEPT_KEY) for _ in range(5)))
        again = await client.post(url, json=body, headers=DEPT_KEY)
    assert {a.status_code for a in [*answers, again]} == {202}
    assert len({a.json()["incident_id"] for a in [*answers, again]}) == 1 and again.json()["duplicate"]
    found = await topics.collect(INTAKE_ACTIONS, lambda e: e.key == case_id, expect=1, settle=2.0)
    assert len(found) == 1 and found[0].type == "gov.gridline.action.taken.v1"
    event = payload(found[0])
    assert (event["case_id"], event["kind"], event["action_id"]) == (case_id, "resolve", f"A-{uid}")
    assert event["evidence_urls"] == ["https://img.example.cn/done.jpg"]


@pytest.mark.parametrize(("kind", "needs"), [
    ("return", "reason"), ("resolve", "evidence_urls"), ("verify", "passed"), ("rate", "satisfaction"),
    ("request_extension", "extension_hours"), ("suspend", "reason"), ("arbitrate", "target"),
    ("dispatch", "target"), ("reject", "reason"),
])
async def test_each_kind_of_action_needs_its_own_fields(stack: Stack, uid: str, kind: str, needs: str) -> None:
    case_id = f"C-K-{uid}"
    async with serve(create_app(intake_settings(stack))) as client:
        answer = await client.post(f"/v1/cases/{case_id}/actions", json=action(f"A-{uid}", kind), headers=DEPT_KEY)
    assert answer.status_code == 422
    assert needs in str(answer.json()["detail"])
    assert await published(stack, INTAKE_ACTIONS, lambda e: e.key == case_id) == []


async def test_a_department_source_may_act_only_as_its_own_department(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    case_id = f"C-D-{uid}"
    url = f"/v1/cases/{case_id}/actions"
    async with serve(create_app(settings_with_a_department(stack))) as client:
        own = await client.post(url, json=action(f"A1-{uid}"), headers=URBAN)
        other = await client.post(url, json=action(f"A2-{uid}", actor="WATER"), headers=URBAN)
        centre = await client.post(url, json=action(f"A3-{uid}", "return", actor="CENTER:OP-1", reason="非本部门"),
                                   headers=URBAN)
    assert own.status_code == 202
    assert other.status_code == 403 and "URBAN_MGMT" in other.json()["detail"] and centre.status_code == 403
    found = await topics.collect(INTAKE_ACTIONS, lambda e: e.key == case_id, expect=1, settle=1.0)
    assert [payload(e)["action_id"] for e in found] == [f"A1-{uid}"]


async def test_refused_actions_publish_nothing(stack: Stack, uid: str) -> None:
    case_id = f"C-R-{uid}"
    url = f"/v1/cases/{case_id}/actions"
    body = action(f"A-{uid}")
    async with serve(create_app(intake_settings(stack))) as client:
        hotline = await client.post(url, json=body, headers=HOTLINE_KEY)  # may publish tickets, not actions
        anonymous = await client.post(url, json=body)
        bad_case = await client.post("/v1/cases/C%20bad/actions", json=body, headers=DEPT_KEY)
        bad_kind = await client.post(url, json={**body, "kind": "ignore"}, headers=DEPT_KEY)
        bad_rating = await client.post(url, json=action(f"A-{uid}", "rate", satisfaction=9), headers=DEPT_KEY)
    assert (hotline.status_code, anonymous.status_code) == (403, 401)
    assert bad_case.status_code == 422 and bad_kind.status_code == 422 and bad_rating.status_code == 422
    assert [e["loc"] for e in bad_kind.json()["detail"]] == [["body", "kind"]]
    assert [e["loc"] for e in bad_rating.json()["detail"]] == [["body", "satisfaction"]]
    assert await published(stack, INTAKE_ACTIONS, mentioning(uid)) == []
