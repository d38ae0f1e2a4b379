"""The console in a real browser (Debian's chromium, headless, driven by Playwright) against every
service running as a process on a stack of its own: sign in, see a manual case with its candidates,
dispatch it with one click, watch it leave the queue and appear on the map as dispatched, open its
timeline. Screenshots of each page go to .local/test/screenshots (test artefacts).

Every wait is for a condition in the page (generous timeouts for a loaded machine), never a sleep."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from deploy.local import stack as local_stack
from deploy.local.processes import ROOT, SERVICES, ServiceSet, console_urls, suite_ports
from tests.integration.conftest import own_stack

pytestmark = pytest.mark.integration
PORTS = suite_ports("browser", tuple(SERVICES))
SHOTS = ROOT / ".local" / "test" / "screenshots"
WAIT_MS = 120_000
MANUAL_TEXT = "你好，我想反映一下这个事情，希望有人管管"  # no item is confident (model score 0.13): 人工分拨


@pytest.fixture(scope="module")
def browser_stack() -> Iterator[local_stack.Stack]:
    yield from own_stack("browser")


@pytest.fixture(scope="module")
def services(browser_stack: local_stack.Stack, city_dir: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, int]]:
    env = {**browser_stack.env(), "ROUTER_CITY_DIR": str(city_dir), "CONSOLE_CITY_DIR": str(city_dir),
           "LOG_LEVEL": "WARNING", **console_urls(PORTS)}
    procs = ServiceSet(env=env, logs=tmp_path_factory.mktemp("console-logs"))
    try:
        procs.start(PORTS)
        procs.wait_ready(PORTS, timeout=180)
        yield PORTS
    finally:
        procs.stop()


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is missing: `make test` installs it (Makefile target `browser`)"
    return found


async def _manual_case(ports: dict[str, int], city_dir: Path) -> str:
    """A hotline ticket whose text no item matches confidently: the router queues it for the centre."""
    grid = next(f["properties"] for f in json.loads((city_dir / "grids.geojson").read_text())["features"]
                if f["properties"]["kind"] == "comprehensive")
    ticket = f"BROWSER-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.post(f"http://127.0.0.1:{ports['intake']}/v1/hotline/tickets", headers={
            "X-Api-Key": "dev-hotline-key"}, json={
            "ticket_no": ticket, "call_time": datetime.now(UTC).isoformat(), "caller_phone": "13812345678",
            "appeal_type": "投诉", "text": MANUAL_TEXT, "operator_id": "OP-TEST",
            "point": {"lon": grid["centroid_lon"], "lat": grid["centroid_lat"]}})
        assert resp.status_code == 202, resp.text
        case_id = f"C-{resp.json()['incident_id']}"
        case = await _wait_for(client, f"http://127.0.0.1:{ports['router']}/v1/cases/{case_id}",
                               lambda c: c.get("state") == "manual")
    assert case["explanation"]["classification"]["candidates"], "the test needs a case with candidates"
    return case_id


async def _wait_for(client: httpx.AsyncClient, url: str, until: Any, timeout: float = 120) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline, last = loop.time() + timeout, {}
    while loop.time() < deadline:
        resp = await client.get(url)
        if resp.status_code == 200 and until(last := resp.json()):
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never got there: {last}")


async def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


async def test_operator_dispatches_a_manual_case_and_follows_it_on_the_map_and_timeline(
    services: dict[str, int], city_dir: Path
) -> None:
    case_id = await _manual_case(services, city_dir)
    base = f"http://127.0.0.1:{services['console']}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=_chromium(), headless=True,
                                           args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await browser.new_page(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(WAIT_MS)
            await page.goto(f"{base}/console/")
            await page.fill("input[name=username]", "centre")
            await page.fill("input[name=password]", "centre-demo")
            await page.click("button[type=submit]")

            card = page.locator(f'[data-testid=queue-case][data-case-id="{case_id}"]')
            await expect(card).to_be_visible(timeout=WAIT_MS)
            await expect(card).to_contain_text(MANUAL_TEXT)
            buttons = card.locator("[data-testid=dispatch-candidate]")
            await expect(buttons.first).to_be_visible()
            target = await buttons.first.get_attribute("data-item")
            await _shoot(page, "1-queue")

            await buttons.first.click()
            await expect(card).to_have_count(0, timeout=WAIT_MS)  # gone once the router applied it

            await page.goto(f"{base}/console/#/map")
            point = page.locator(f'[data-testid=map-case][data-case-id="{case_id}"]')
            await expect(point).to_have_attribute("data-state", "dispatched", timeout=WAIT_MS)
            await _shoot(page, "2-map")

            await point.click(force=True)  # an SVG circle under its <title>
            timeline = page.locator("[data-testid=timeline]")
            await expect(timeline).to_contain_text("派遣", timeout=WAIT_MS)
            await expect(timeline).to_contain_text("CENTER:centre")
            await expect(page.locator("[data-testid=case-id]")).to_have_text(case_id)
            await expect(page.locator(".facts")).to_contain_text(str(target))
            await _shoot(page, "3-case")

            audit = await (await page.request.get(f"{base}/api/audit?case_id={case_id}")).json()
            assert [(a["action"], a["actor"], a["outcome"]) for a in audit] == [
                ("dispatch", "CENTER:centre", "accepted")]

            for view, ready in (("board", "[data-testid=board-overdue]"), ("hotspots", "[data-testid=hotspots]"),
                                ("scores", "[data-testid=scores] > table")):
                await page.goto(f"{base}/console/#/{view}")
                await expect(page.locator(ready)).to_be_visible(timeout=WAIT_MS)
                await _shoot(page, f"4-{view}")
        finally:
            await browser.close()
    await _other_departments_do_not_see_it(base, case_id)


async def _other_departments_do_not_see_it(base: str, case_id: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        owner = (await client.get(f"http://127.0.0.1:{PORTS['router']}/v1/cases/{case_id}")).json()["assignment"]
    outsider = "water" if owner["owner"] != "WATER" else "urban"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        assert (await client.post("/api/login", json={"username": outsider, "password": f"{outsider}-demo"})).is_success
        assert (await client.get(f"/api/cases/{case_id}")).status_code == 403
        assert case_id not in {c["case_id"] for c in (await client.get("/api/cases")).json()["cases"]}


async def test_a_department_user_sees_only_its_own_cases_and_no_queue(services: dict[str, int]) -> None:
    base = f"http://127.0.0.1:{services['console']}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        signed = await client.post("/api/login", json={"username": "urban", "password": "urban-demo"})
        assert signed.status_code == 200
        assert (await client.get("/api/queue")).status_code == 403
        no_csrf = await client.post("/api/cases/C-HL-0000000000000000/actions", json={"kind": "accept"})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        assert (await client.post("/api/login", json={"username": "urban", "password": "wrong"})).status_code == 401
