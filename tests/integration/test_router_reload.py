"""A new responsibility list version is loaded without a restart; an invalid one is refused and the
running version kept. Each case records the version that routed it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Places
from tests.integration.router_support import wait_for_case
from tests.integration.test_router import report

pytestmark = pytest.mark.integration
CLASS_FILE = "a_city_management.yaml"
TREE = "路边的行道树被风刮断了一根枝，落在绿化带边上，麻烦来清理"


async def test_new_list_version_routes_new_cases_without_restart_and_invalid_list_is_refused(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, list_dir: Path, places: Places
) -> None:
    header, items = list_dir / "list.yaml", list_dir / CLASS_FILE
    original_header, original_items = header.read_text(), items.read_text()
    try:
        before = await report(intake_client, places.take(), TREE)
        case = await wait_for_case(router_client, before, lambda c: c["state"] == "dispatched")
        assert case["list_version"] == "2026.12-1" and case["assignment"]["owner"] == "GREENERY"

        items.write_text(original_items.replace(
            "    owner: GREENERY\n    level: district\n    deadlines: {accept: 1h, handle: 1d, clock: natural}",
            "    owner: PROPERTY\n    level: district\n    deadlines: {accept: 1h, handle: 1d, clock: natural}", 1))
        # GREENERY's default item moves with it (a department's default must be its own); the version is
        # bumped last, as an editor publishing a list does: once it shows, all of it is in
        header.write_text(original_header.replace("  GREENERY: A07.001", "  GREENERY: A07.002")
                          .replace('version: "2026.12-1"', 'version: "2026.12-2"'))
        await _until_version(router_client, "2026.12-2")
        after = await report(intake_client, places.take(), TREE)
        case = await wait_for_case(router_client, after, lambda c: c["state"] == "dispatched")
        assert case["list_version"] == "2026.12-2" and case["assignment"]["owner"] == "PROPERTY"
        old = (await router_client.get(f"/v1/cases/{before}")).json()
        assert old["list_version"] == "2026.12-1"  # a case keeps the version that routed it

        header.write_text(original_header.replace('version: "2026.12-1"', 'version: "2026.12-3"'))
        items.write_text(original_items.replace("owner: GREENERY", "owner: NO_SUCH_DEPARTMENT", 1))
        refused = await router_client.post("/v1/admin/responsibility-list:reload")
        assert refused.status_code == 422
        body = refused.json()
        assert body["kept"] == "2026.12-2"
        assert any("NO_SUCH_DEPARTMENT" in p and CLASS_FILE in p for p in body["problems"])
        assert any(":" in p for p in body["problems"])  # file:line
    finally:
        header.write_text(original_header)
        items.write_text(original_items)
        await router_client.post("/v1/admin/responsibility-list:reload")


async def _until_version(client: httpx.AsyncClient, version: str) -> None:
    incident = {"incident_id": "HL-V", "channel": "hotline", "source_id": "v", "reporter": {"kind": "citizen"},
                "text": TREE, "location": {}, "reported_at": "2026-11-23T10:00:00+08:00",
                "received_at": "2026-11-23T10:00:00+08:00"}
    # a reload builds the model and the jieba tokeniser again: seconds on a loaded machine, so wait on the
    # condition with a generous deadline
    deadline = asyncio.get_running_loop().time() + 90
    while asyncio.get_running_loop().time() < deadline:
        resp = await client.post("/v1/routing/explain", json=incident)
        if resp.json()["list_version"] == version:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"list version {version} was never loaded by the watcher")
