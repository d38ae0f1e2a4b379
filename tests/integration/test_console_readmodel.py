"""The console's read model in its real PostgreSQL tables: 协办 assisting departments are kept, and an
assisting department finds the case in its lists (the map, the board's rungs, the hotspots); the case's
residential compound reaches the hotspots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from deploy.local.stack import Stack
from runtime.db import migrate
from services.console.adapters import repository as repo
from services.console.domain.readmodel import CaseRow

pytestmark = pytest.mark.integration

SQL = Path(__file__).resolve().parents[2] / "services" / "console" / "sql"
T0 = datetime.now(UTC) - timedelta(days=1)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_assisting_department_finds_the_leads_case_in_its_lists(stack: Stack, uid: str) -> None:
    schema = f"console_t{uid.lower()}"
    await migrate(stack.database_url, schema, SQL)
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": f'"{schema}", public'})
    try:
        row = CaseRow(case_id="C-ASSIST", seq=3, state="dispatched", opened_at=T0, updated_at=T0, owner="WATER",
                      level="district", item_code="A04.001", item_name="井盖", lon=120.9, lat=32.0,
                      compound="幸福小区", assisting=("URBAN_MGMT", "HOUSING"))
        await repo.save_case(conn, row)
        assert await repo.case_row(conn, "C-ASSIST") == row  # read back as it was folded (a tuple, not a list)
        for department in ("WATER", "URBAN_MGMT", "HOUSING", None):
            listed = await repo.open_cases(conn, owner=department)
            assert [c["case_id"] for c in listed] == ["C-ASSIST"], department
            assert listed[0]["assisting"] == ["URBAN_MGMT", "HOUSING"]
            seen = await repo.sightings(conn, T0 - timedelta(hours=1), department)
            assert [(s.case_id, s.compound) for s in seen] == [("C-ASSIST", "幸福小区")], department
        assert await repo.open_cases(conn, owner="TRAFFIC") == []
        assert await repo.sightings(conn, T0 - timedelta(hours=1), "TRAFFIC") == []
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
