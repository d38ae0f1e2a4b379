"""The closed loop never goes blind (issue 9): a demo-like stream through intake, the router and sla;
the centre dispatches its whole manual queue by hand (item codes from the explanation's candidates, or a
department); afterwards no case in a dispatched-or-later state lacks its grid (when it was located),
item, deadlines or an SLA clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bench.data import synthetic, ticket_body
from deploy.local.stack import Stack
from services.sla.app import create_app
from services.sla.settings import SlaSettings
from tests.integration.conftest import CLOSED_LOOP_SEED, CLOSED_LOOP_STREAM, serve
from tests.integration.intake_support import DEPT_KEY, HOTLINE_KEY

pytestmark = pytest.mark.integration

# incidents: the demo's mix of channels, texts and places (simcity), a sixth of its size; Places keeps the
# other tests' grids clear of where it reports (its cases stay open)
STREAM, SEED = CLOSED_LOOP_STREAM, CLOSED_LOOP_SEED
AFTER_DISPATCH = {"dispatched", "accepted", "resolved", "verified", "escalated", "extended", "reopened",
                  "suspended", "returned", "arbitration"}


@asynccontextmanager
async def sla_service(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = SlaSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                           schema_name="sla_loop", group_id="gridline-sla-loop", timer_enabled=False)
    async with serve(create_app(settings)) as client:
        yield client


async def wait_until(check: Any, what: str, timeout: float = 240.0) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if result := await check():
            return result
        await asyncio.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


async def test_no_dispatched_case_lacks_place_item_deadlines_or_clock(
    stack: Stack, intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient,
) -> None:
    run = uuid.uuid4().hex[:8]
    bodies = [ticket_body(inc, f"LOOP-{run}-{i}") | {"call_time": datetime.now(UTC).isoformat()}
              for i, inc in enumerate(synthetic(STREAM, seed=SEED))]
    async with sla_service(stack) as sla:
        case_ids: list[str] = []
        for start in range(0, len(bodies), 100):
            resp = await intake_client.post("/v1/hotline/tickets:batch", json={"tickets": bodies[start:start + 100]},
                                            headers=HOTLINE_KEY)
            assert resp.status_code == 207, resp.text
            case_ids += [f"C-{r['incident_id']}" for r in resp.json()["results"] if r["status"] == 202]
        assert len(case_ids) > STREAM * 0.9

        async def cases() -> dict[str, dict[str, Any]]:
            found = {}
            for case_id in case_ids:
                resp = await router_client.get(f"/v1/cases/{case_id}")
                if resp.status_code == 200:
                    found[case_id] = resp.json()
            return found

        await wait_until(lambda: _all(cases(), len(case_ids)), "every case routed")
        queued = [c for c in (await cases()).values() if c["state"] == "manual"]
        assert queued, "the stream is meant to give the centre work"
        for c in queued:  # the centre: the top candidate's item code, or a department that has a default item
            candidates = (c["explanation"] or {}).get("classification", {}).get("candidates") or []
            target = candidates[0]["item_code"] if candidates and c["assignment"]["grid_id"] else "URBAN_MGMT"
            body = {"action_id": uuid.uuid4().hex, "kind": "dispatch", "actor": "CENTER:值班长", "target": target,
                    "taken_at": datetime.now(UTC).isoformat()}
            resp = await intake_client.post(f"/v1/cases/{c['case_id']}/actions", json=body, headers=DEPT_KEY)
            assert resp.status_code == 202, resp.text

        async def settled() -> dict[str, dict[str, Any]] | None:
            now = await cases()
            moved = all(now[c["case_id"]]["state"] != "manual" or _refused(now[c["case_id"]]) for c in queued)
            return now if moved else None

        final = await wait_until(settled, "the manual queue dispatched")
        hand = [final[c["case_id"]] for c in queued if final[c["case_id"]]["state"] == "dispatched"]
        assert len(hand) >= len(queued) * 0.8  # a locational item for an unlocated case is refused, rightly
        blind = []
        for c in final.values():
            if c["state"] not in AFTER_DISPATCH:
                continue
            a = c["assignment"] or {}
            dispatched = [t for t in c["timeline"] if t["kind"] == "dispatched"][-1]
            located = ((c["explanation"] or {}).get("location") or {}).get("grid_id")
            if not a.get("item_code") or not (dispatched.get("deadlines") or {}).get("handle_within") \
                    or (located and a.get("grid_id") != located):
                blind.append((c["case_id"], "case", a))

        async def without_clock() -> list[str]:
            return [c["case_id"] for c in final.values() if c["state"] in AFTER_DISPATCH
                    and (await sla.get(f"/v1/sla/cases/{c['case_id']}")).status_code != 200]

        for _ in range(300):  # up to 10 min: sla reads case.events.v1 from its start, the whole session's
            missing = await without_clock()
            if not missing:
                break
            await asyncio.sleep(2.0)
        assert missing == []
        assert blind == []


async def _all(found: Any, n: int) -> bool:
    cases = await found
    return len(cases) == n and all(c["state"] != "reported" for c in cases.values())


def _refused(case: dict[str, Any]) -> bool:
    return case["timeline"][-1]["kind"] == "action_refused"
