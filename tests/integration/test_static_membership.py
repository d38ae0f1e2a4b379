"""Static group membership (KIP-345), what the recovery target relies on: a consumer killed with SIGKILL
and started again under the same `KAFKA_GROUP_INSTANCE_ID` gets its partitions back at once. A dynamic
member started in its place waits until the dead one's session times out (here 45 s), because the
coordinator cannot tell that the dead member is gone.

The consumers are processes built from the environment as the services build theirs (PlatformSettings
→ runtime.kafka.make_consumer), so the setting is exercised end to end; a process killed with SIGKILL
sends nothing to the coordinator, as a crashed service does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.local.processes import ROOT
from deploy.local.stack import Stack

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_MS = 45_000
# Well inside the session timeout: a member that only got its partitions after the dead member's session
# expired cannot pass. Not a speed figure: the handover needs one JoinGroup and one SyncGroup round trip.
HANDOVER_WITHIN_SECONDS = 25.0

MEMBER = f"""
import asyncio, sys
from runtime.kafka import make_consumer
from runtime.settings import PlatformSettings

async def main() -> None:
    settings = PlatformSettings()
    consumer = make_consumer(settings.kafka_bootstrap, sys.argv[1], group_id=sys.argv[2], client_id="static-test",
                             group_instance_id=settings.kafka_group_instance_id,
                             session_timeout_ms={SESSION_TIMEOUT_MS})
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    print("assigned", sorted(tp.partition for tp in consumer.assignment()), flush=True)
    while True:
        await consumer.getmany(timeout_ms=1000)

asyncio.run(main())
"""


def member(stack: Stack, topic: str, group: str, instance: str) -> subprocess.Popen[str]:
    env = {**os.environ, **stack.env(), "KAFKA_GROUP_INSTANCE_ID": instance}
    return subprocess.Popen([sys.executable, "-c", MEMBER, topic, group], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)


async def assigned(proc: subprocess.Popen[str], within: float) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), within)
    assert line.startswith("assigned"), f"member exited ({proc.poll()}) without an assignment"
    return line.strip()


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


async def test_a_killed_static_member_started_again_takes_its_partitions_back_at_once(stack: Stack) -> None:
    uid = uuid.uuid4().hex[:8]
    topic, group = f"test.static.{uid}", f"test-static-{uid}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()

    first = member(stack, topic, group, "worker-0")
    try:
        assert await assigned(first, 60) == "assigned [0, 1]"
    finally:
        kill(first)
    again = member(stack, topic, group, "worker-0")
    try:
        assert await assigned(again, HANDOVER_WITHIN_SECONDS) == "assigned [0, 1]"
    finally:
        kill(again)
