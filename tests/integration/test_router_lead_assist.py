"""A text naming problems of two departments gets a lead (主办) and an assisting department (协办), end to
end: both see the case, only the lead accepts and resolves, and the SLA clock is the lead's."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Places
from tests.integration.router_support import wait_for_case
from tests.integration.test_router import act, kinds, report

pytestmark = pytest.mark.integration
TWO_PROBLEMS = "小区里的树枝太长挡住了窗户需要修剪，另外小区门口的路灯也坏了"


async def test_a_text_naming_two_departments_problems_gets_a_lead_and_an_assisting_department(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, places: Places
) -> None:
    case_id = await report(intake_client, places.take(), TWO_PROBLEMS)
    case = await wait_for_case(router_client, case_id, lambda c: c["state"] == "dispatched", timeout=90)
    dispatched = next(t for t in case["timeline"] if t["kind"] == "dispatched")
    lead, helpers = dispatched["assignment"]["owner"], dispatched["assignment"]["assisting"]
    assert lead == "GREENERY" and helpers == ["URBAN_MGMT"]
    assert dispatched["deadlines"]["handle_within"]  # the SLA runs on the lead's item
    assert dispatched["explanation"]["dispatch"]["assisting"][0]["owner"] == "URBAN_MGMT"

    for owner in (lead, *helpers):  # everyone involved sees the case in their backlog
        listed = (await router_client.get("/v1/cases", params={"owner": owner, "limit": 1000})).json()
        assert case_id in {c["case_id"] for c in listed}

    await act(intake_client, case_id, "accept", "URBAN_MGMT")  # an assisting department does not take it over
    refused = await wait_for_case(router_client, case_id, lambda c: "action_refused" in kinds(c))
    assert refused["state"] == "dispatched"
    await act(intake_client, case_id, "accept", lead)
    await wait_for_case(router_client, case_id, lambda c: c["state"] == "accepted")
