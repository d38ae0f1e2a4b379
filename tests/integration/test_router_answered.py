"""A consultation the knowledge base covers is answered by the centre and closed (直接答复), end to end:
intake → Kafka → router → PostgreSQL → case events, with the list and model versions recorded."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Places
from tests.integration.intake_support import HOTLINE_KEY, ticket
from tests.integration.router_support import wait_for_case
from tests.integration.test_router import kinds

pytestmark = pytest.mark.integration


async def test_an_enquiry_the_knowledge_base_covers_is_answered_and_closed(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, places: Places
) -> None:
    grid = places.take()
    body = ticket(f"Q-{uuid.uuid4().hex[:12]}", text="请问社保卡丢了怎么补办？需要带什么材料", appeal_type="咨询",
                  address=None, point={"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]})
    resp = await intake_client.post("/v1/hotline/tickets", json=body, headers=HOTLINE_KEY)
    assert resp.status_code == 202, resp.text
    case_id = f"C-{resp.json()['incident_id']}"
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "closed", timeout=90)
    assert kinds(case) == ["created", "answered"]
    answered = case["timeline"][-1]
    assert answered["actor"] == "CENTER" and answered["answer"]["entry_id"] == "KB-D04-social-card"
    assert answered["answer"]["source"] and answered["answer"]["text"]
    assert answered["model_version"] and answered["model_version"].startswith(answered["list_version"])
    assert answered["assignment"]["item_code"] == "D04.001"
