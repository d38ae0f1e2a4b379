"""The analysts' example consumer in services/scoring/README.md runs as printed, against the real topic."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from deploy.local.stack import Stack
from services.scoring.app import create_app
from tests.integration.conftest import serve
from tests.integration.test_scoring import (
    NEW_RULER,
    input_end_offsets,
    produce,
    records,
    settings,
    start_group_at,
    until_cards,
)
from tests.unit.scoring.builders import EXPECTED_ASSESSED, an_assessed_month

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "services" / "scoring" / "README.md"


def example_consumer() -> str:
    """The python block of the README section "For analysts"."""
    section = README.read_text(encoding="utf-8").split("## For analysts", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README lost its example consumer"
    return found.group(1)


async def test_the_readme_example_reads_the_compacted_topic_into_a_ranking(
    stack: Stack, uid: str, schema: str, tmp_path: Path,
) -> None:
    group = f"gridline-scoring-test-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    async with serve(create_app(settings(stack, uid, group))) as client:
        await produce(stack.bootstrap, records(an_assessed_month(uid, 2031, 8)))
        await until_cards(client, "2031-08", uid, EXPECTED_ASSESSED, ruler=NEW_RULER)
        script = tmp_path / "example.py"
        script.write_text(example_consumer(), encoding="utf-8")
        expected = {f"DEPT_B_{uid}": ("1", "80.00"), f"DEPT_A_{uid}": ("2", "60.00"), f"DEPT_C_{uid}": ("2", "60.00")}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:  # the relay publishes the cards the API already shows a moment later
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(script), stack.bootstrap, "2031-08", NEW_RULER,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(process.communicate(), 120)
            assert process.returncode == 0, err.decode()
            rows = {parts[1]: (parts[0], parts[2]) for parts in (line.split() for line in out.decode().splitlines())}
            if {k: v for k, v in rows.items() if k in expected} == expected or loop.time() > deadline:
                break
            await asyncio.sleep(1)
    assert {k: v for k, v in rows.items() if k in expected} == expected
