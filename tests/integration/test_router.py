"""Router against the real broker and database: dispatch, duplicates, returns, arbitration, the closed
loop, refusals, escalation and the manual queue. Intake is the way in, as in production."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from runtime.kafka import make_producer, publish
from schemas.cloudevents import encode
from schemas.sla import SlaEvent, SlaEventKind, SlaStage
from schemas.topics import SLA_EVENTS, dlq, sla_type
from services.intake.domain.credentials import issue_worker_token
from tests.integration.conftest import Places, TopicReader
from tests.integration.intake_support import DEPT_KEY, HOTLINE_KEY, ticket
from tests.integration.router_support import wait_for_case

pytestmark = pytest.mark.integration
Client = httpx.AsyncClient


async def report(intake: Client, grid: dict[str, Any], text: str, dx: float = 0.0) -> str:
    body = ticket(f"R-{uuid.uuid4().hex[:12]}", text=text, address=None,
                  point={"lon": grid["centroid_lon"] + dx, "lat": grid["centroid_lat"]})
    resp = await intake.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    assert resp.status_code == 202, resp.text
    return f"C-{resp.json()['incident_id']}"


async def act(intake: Client, case_id: str, kind: str, actor: str, **fields: Any) -> None:
    body = {"action_id": uuid.uuid4().hex, "kind": kind, "actor": actor,
            "taken_at": datetime.now(UTC).isoformat(), **fields}
    resp = await intake.post(f"/v1/cases/{case_id}/actions", json=body, headers=DEPT_KEY)
    assert resp.status_code == 202, resp.text


def kinds(case: dict[str, Any]) -> list[str]:
    return [t["kind"] for t in case["timeline"]]


TREE = "行道树的树枝被风刮断掉在路边了，麻烦来清一下"  # not urgent: urgent texts always reach a person
BRANCH = "路边的行道树被风刮断了一根枝，落在绿化带边上，麻烦来清理"  # the same item, not urgent either
GARBAGE = "楼下垃圾堆了好几天没人清理，乱堆乱放，臭气熏天"


async def test_repeat_report_near_an_open_case_is_merged_and_both_reporters_stay(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    grid = places.take()
    first = await report(intake_client, grid, TREE)
    await wait_for_case(router_client, first, lambda c: c["state"] == "dispatched")
    second = await report(intake_client, grid, BRANCH, dx=0.0003)  # ~30 m away
    merged = await wait_for_case(router_client, second, lambda c: c["state"] == "merged")
    assert merged["timeline"][-1]["merged_into"] == first
    original = await wait_for_case(router_client, first, lambda c: "repeat_reported" in kinds(c))
    assert original["merged_count"] == 1
    assert len(original["reporters"]) == 2  # every reporter stays on the case for callbacks


async def test_same_item_far_away_is_not_a_duplicate(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    a, b = places.take(), places.take()
    first = await report(intake_client, a, TREE)
    second = await report(intake_client, b, TREE)
    for case_id in (first, second):
        await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")


async def test_first_return_goes_to_the_next_candidate_and_second_return_to_arbitration(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    case_id = await report(intake_client, places.take(), TREE)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    first_owner = case["assignment"]["owner"]
    await act(intake_client, case_id, "return", first_owner, reason="该树木属于小区物业管理范围")
    case = await wait_for_case(router_client, case_id, lambda c: kinds(c)[-1] == "dispatched" and c["returns"] == 1)
    second_owner = case["assignment"]["owner"]
    assert second_owner != first_owner
    assert second_owner == case["explanation"]["dispatch"]["next_candidates"][0]
    await act(intake_client, case_id, "return", second_owner, reason="也不是我们的")
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "arbitration")
    assert kinds(case)[-2:] == ["returned", "arbitration_requested"]
    await act(intake_client, case_id, "arbitrate", "CENTER:值班长", target="PROPERTY", reason="经核实为小区内树木")
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched" and c["returns"] == 2)
    assert case["assignment"]["owner"] == "PROPERTY"
    rulings = case["timeline"][-1]["return_rulings"]  # neither department was responsible: both returns justified
    assert [(r["department"], r["justified"]) for r in rulings] == [(first_owner, True), (second_owner, True)]
    assert case["assignment"]["item_code"] == "D01.001" and case["assignment"]["grid_id"]  # PROPERTY's default
    assert case["timeline"][-1]["deadlines"]["handle_within"] and case["timeline"][-1]["deadlines"]["escalation"]


async def test_closed_loop_accept_resolve_verify_rate_closes_the_case(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    grid = places.take()
    case_id = await report(intake_client, grid, GARBAGE)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    assert case["assignment"]["owner"] == "GRID" and case["assignment"]["level"] == "grid"  # 琐事不出楼组
    owner = case["assignment"]["owner_unit"]
    await act(intake_client, case_id, "accept", owner)
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "accepted")
    await act(intake_client, case_id, "resolve", owner, evidence_urls=["https://img.example.org/clean.jpg"])
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "resolved")
    await act(intake_client, case_id, "verify", grid["worker_id"], passed=True)
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "verified")
    await act(intake_client, case_id, "rate", "CENTER:回访", satisfaction=5)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "closed")
    assert kinds(case) == ["created", "dispatched", "accepted", "resolved", "verified", "rated", "closed"]
    assert [t["seq"] for t in case["timeline"]] == list(range(1, 8))


async def test_failed_verification_reopens_the_case(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    grid = places.take()
    case_id = await report(intake_client, grid, GARBAGE)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    owner = case["assignment"]["owner_unit"]
    for kind, extra, state in (("accept", {}, "accepted"),
                               ("resolve", {"evidence_urls": ["https://img.example.org/x.jpg"]}, "resolved")):
        await act(intake_client, case_id, kind, owner, **extra)
        await wait_for_case(router_client, case_id, lambda c, s=state: c["state"] == s)
    await act(intake_client, case_id, "verify", grid["worker_id"], passed=False, reason="垃圾仍未清运")
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "reopened")


async def test_invalid_transition_is_refused_with_a_reason_on_the_case_and_a_dead_letter(
    intake_client: Client, router_client: Client, places: Places, topics: TopicReader
) -> None:
    case_id = await report(intake_client, places.take(), TREE)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    await act(intake_client, case_id, "resolve", case["assignment"]["owner"],
              evidence_urls=["https://img.example.org/x.jpg"])
    case = await wait_for_case(router_client, case_id, lambda c: kinds(c)[-1] == "action_refused")
    assert case["state"] == "dispatched"
    assert "accepted case" in case["timeline"][-1]["reason"]
    dead = await topics.collect(dlq("intake.actions.v1"), lambda e: e.key == case_id, expect=1)
    assert "accepted case" in dead[0].extensions["dlq_reason"]


async def test_action_by_someone_who_does_not_own_the_case_is_refused(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    case_id = await report(intake_client, places.take(), TREE)
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    await act(intake_client, case_id, "accept", "EDUCATION")
    case = await wait_for_case(router_client, case_id, lambda c: kinds(c)[-1] == "action_refused")
    assert "not the case owner" in case["timeline"][-1]["reason"]


async def test_escalation_decided_by_sla_raises_the_level_along_the_ladder(
    intake_client: Client, router_client: Client, places: Places, stack: Any
) -> None:
    case_id = await report(intake_client, places.take(), GARBAGE)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    assert case["assignment"]["level"] == "grid"
    producer = make_producer(stack.bootstrap, client_id="test-sla")
    await producer.start()
    try:
        decided = SlaEvent(event_id=uuid.uuid4().hex, case_id=case_id, kind=SlaEventKind.ESCALATION_DECIDED,
                           stage=SlaStage.ACCEPT, at=datetime.now(UTC), to_level="community",
                           document="risk_warning_letter")
        record = encode(SLA_EVENTS, case_id, decided, type=sla_type("escalation_decided"), source="/test/sla",
                        subject=case_id, event_id=decided.event_id)
        await publish(producer, [record, record])  # delivered twice: applied once
    finally:
        await producer.stop()
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "escalated")
    assert case["assignment"]["level"] == "community"
    assert case["assignment"]["owner"] == "COMMUNITY"
    assert case["assignment"]["owner_unit"] == case["assignment"]["community_id"]
    assert "risk_warning_letter" in case["timeline"][-1]["reason"]
    assert kinds(case).count("escalated") == 1


async def test_incident_that_cannot_be_located_goes_to_the_manual_queue_and_the_centre_dispatches_it(
    intake_client: Client, router_client: Client
) -> None:
    body = ticket(f"M-{uuid.uuid4().hex[:12]}", text="这里的井盖坏了很久了", address="某个说不清的地方")
    resp = await intake_client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    case_id = f"C-{resp.json()['incident_id']}"
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "manual")
    assert "located" in case["timeline"][-1]["reason"]
    queue = (await router_client.get("/v1/cases", params={"state": "manual", "limit": 1000})).json()
    assert case_id in {c["case_id"] for c in queue}
    await act(intake_client, case_id, "dispatch", "CENTER:值班长", target="URBAN_MGMT")
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    assert case["assignment"]["owner"] == "URBAN_MGMT"
    assert case["assignment"]["item_code"] == "A01.003"  # URBAN_MGMT's default item in the list
    dispatched = case["timeline"][-1]
    assert dispatched["deadlines"]["accept_within"] == "4h" and dispatched["deadlines"]["escalation"]


async def test_the_centre_dispatches_a_located_case_by_item_and_it_keeps_place_limits_and_ladder(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    grid = places.take()
    case_id = await report(intake_client, grid, "你好，我想问一下这个事情")
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "manual")
    assert case["assignment"]["grid_id"] == grid["grid_id"]  # the place found is kept in the queue
    await act(intake_client, case_id, "dispatch", "CENTER:值班长", target="A01.001")
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched")
    a, d = case["assignment"], case["timeline"][-1]["deadlines"]
    assert (a["owner"], a["owner_unit"], a["level"], a["item_code"]) == ("GRID", grid["grid_id"], "grid", "A01.001")
    assert (d["accept_within"], d["handle_within"]) == ("30m", "1d")
    assert d["escalation"] == ["community", "street", "district", "supervision"]


async def test_grid_report_handled_on_the_spot_creates_a_case_that_closes_at_once(
    intake_client: Client, router_client: Client, places: Places
) -> None:
    grid = places.take()
    worker = grid["worker_id"]
    body = {"report_id": f"GR-{uuid.uuid4().hex[:12]}", "worker_id": worker, "grid_id": grid["grid_id"],
            "category_code": "A01.006", "point": {"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]},
            "text": "电线杆上小广告已清除", "handled_on_spot": True,
            "evidence_urls": ["https://img.example.org/after.jpg"], "reported_at": datetime.now(UTC).isoformat()}
    token = issue_worker_token("dev-worker-token-secret", worker)
    resp = await intake_client.post("/v1/grid/reports", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202, resp.text
    case = await wait_for_case(router_client, f"C-{resp.json()['incident_id']}", lambda c: c["state"] == "closed")
    assert kinds(case) == ["created", "dispatched", "accepted", "resolved", "closed"]
    assert all(t["on_the_spot"] for t in case["timeline"][1:])


async def test_explain_runs_the_decision_without_creating_a_case(router_client: Client, places: Places) -> None:
    grid = places.take()
    incident = {"incident_id": "HL-EXPLAIN", "channel": "hotline", "source_id": "x",
                "reporter": {"kind": "citizen"}, "text": TREE,
                "location": {"point": {"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]}},
                "reported_at": datetime.now(UTC).isoformat(), "received_at": datetime.now(UTC).isoformat()}
    resp = await router_client.post("/v1/routing/explain", json=incident)
    assert resp.status_code == 200
    decision = resp.json()
    assert decision["outcome"] == "dispatch"
    assert decision["explanation"]["classification"]["candidates"][0]["matched_keywords"]
    assert decision["explanation"]["location"]["grid_id"] == grid["grid_id"]
    assert (await router_client.get("/v1/cases/C-HL-EXPLAIN")).status_code == 404
    assert json.dumps(decision)  # serialisable as the CLI prints it
