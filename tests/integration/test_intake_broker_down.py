"""Durable before 2xx: with the broker frozen intake answers 503 + Retry-After, never a false success.

The shared test broker is frozen with SIGSTOP for a few seconds (well under 10 s) and always thawed
with SIGCONT in a `finally`, whatever the test's outcome.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from deploy.local.stack import Stack
from schemas.topics import INTAKE_HOTLINE
from services.intake.app import create_app
from services.intake.gateway import Gateway
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
    app = create_app(intake_settings(stack, publish_timeout_seconds=2))
    async with serve(app) as client:
        warm = await client.post("/v1/hotline/tickets", json=ticket(f"WARM-{uid}"), headers=HOTLINE_KEY)
        assert warm.status_code == 202  # a running intake: its producer knows the topic's partitions
        with frozen_broker(stack):
            refused = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
            assert await ledger(stack, no) == []  # the idempotency row rolled back with the failed publish
            impatient = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
        for answer in (refused, impatient):
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["Retry-After"]) > 0
            assert "nothing accepted" in answer.json()["detail"]
        assert await recorded_by_the_late_delivery(stack, no)  # thawed: the frozen attempt landed after all
        retried = await client.post("/v1/hotline/tickets", json=ticket(no), headers=HOTLINE_KEY)
        found = await topics.collect(INTAKE_HOTLINE, keyed(no), expect=1, settle=3.0)
        assert len(found) == 1, [e.time for e in found]
        ref = json.loads(found[0].data)["reporter"]["contact_ref"]
        gateway: Gateway = app.state.gateway
        assert await gateway.reveal_contact(ref, accessor="test:callback") == "13812345678"
    assert retried.status_code == 202, retried.text
    assert retried.json() == {"incident_id": found[0].id, "duplicate": True, "topic": INTAKE_HOTLINE}
    assert len(await published(stack, INTAKE_HOTLINE, keyed(no))) == 1


async def recorded_by_the_late_delivery(stack: Stack, natural_id: str, within: float = 8.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if [r["published_at"] is not None for r in await ledger(stack, natural_id)] == [True]:
            return True
        await asyncio.sleep(0.2)
    return False
