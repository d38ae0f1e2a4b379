"""重复件 repeat reports against a large open backlog: the duplicate search reads the open cases near the
new incident, not the item's oldest open cases — with hundreds of older open cases of the same item
elsewhere in the window, a repeat report next to an open case still joins it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from tests.integration.conftest import Places
from tests.integration.router_support import wait_for_case
from tests.integration.test_router import BRANCH, TREE, report

pytestmark = pytest.mark.integration
BACKLOG = 250  # more than the 200 oldest open cases per item the search used to read


@pytest_asyncio.fixture(loop_scope="session")
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.database_url)
    yield conn
    await conn.close()


async def test_a_repeat_report_joins_the_open_case_next_to_it_behind_hundreds_of_older_open_cases_of_its_item(
    intake_client: httpx.AsyncClient, router_client: httpx.AsyncClient, places: Places, db: asyncpg.Connection,
    uid: str,
) -> None:
    grid = places.take()
    first = await report(intake_client, grid, TREE)
    case = await wait_for_case(router_client, first, lambda c: c["state"] == "dispatched")
    item = case["assignment"]["item_code"]
    # older open cases of the same item, far outside the district (never near another test's reports)
    await db.execute(
        "INSERT INTO router.cases (case_id, incident_id, channel, state, item_code, owner, level, lon, lat, text, "
        "urgency, citizen, opened_at, updated_at) SELECT 'C-BACKLOG-' || $1 || '-' || g, 'BACKLOG-' || $1 || '-' || g, "
        "'hotline', 'dispatched', $2, 'URBAN_MGMT', 'district', 121.5 + g * 1e-4, 32.5, 'backlog', 'normal', true, "
        "now() - interval '2 hours' - make_interval(secs => g), now() FROM generate_series(1, $3) g",
        uid, item, BACKLOG,
    )
    try:
        second = await report(intake_client, grid, BRANCH, dx=0.0003)  # ~30 m away
        merged = await wait_for_case(router_client, second, lambda c: c["state"] in ("merged", "dispatched"))
        assert merged["state"] == "merged", "the repeat report was not recognised behind the backlog"
        assert merged["timeline"][-1]["merged_into"] == first
    finally:
        await db.execute("UPDATE router.cases SET closed_at = now(), state = 'closed' WHERE case_id LIKE $1",
                         f"C-BACKLOG-{uid}-%")
