"""Durable before 2xx: with the broker frozen intake answers 503 + Retry-After, never a false success.

The shared test broker is frozen with SIGSTOP for a few seconds (well under 10 s) and always thawed
with SIGCONT in a `finally`, whatever the test's outcome.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app
from tests.integration.conftest import TopicReader, serve
from tests.integration.intake_probe import keyed, ledger, published
from tests.integration.intake_support import HOTLINE_KEY, intake_settings, ticket

pytestmark = pytest.mark.integration


@contextmanager
def frozen_broker(stack: Stack) -> Iterator[None]:
    pid = int(stack.kafka.pid_file.read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_a_frozen_broker_gets_503_with_retry_after_and_the_retry_lands_exactly_once(
    stack: Stack, topics: TopicReader, uid: str
) -> None:
    no = f"DOWN-{uid}"
    async with serve(create_app(intake_settings(stack, publish_timeout_seconds=2))) as client:
        with frozen_broker(stack):
            refused = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
            assert await ledger(stack, no) == []  # the idempotency row rolled back with the failed publish
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert "nothing accepted" in refused.json()["detail"]
        await asyncio.sleep(1)  # the broker catches up with what it received while frozen
        retried = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
    assert retried.status_code == 202, retried.text
    found = await topics.collect(INTAKE_HOTLINE, keyed(no), expect=1, settle=3.0)
    assert len(found) == 1, [e.id for e in found]
    assert found[0].id == retried.json()["incident_id"]
    assert [r["published_at"] is not None for r in await ledger(stack, no)] == [True]
    assert len(await published(stack, INTAKE_HOTLINE, keyed(no))) == 1
