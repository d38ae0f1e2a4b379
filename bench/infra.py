"""The `bench` profile's stack (own ports and data, beside the `test` and `run` stacks), started empty.

Every run starts from empty topics and an empty database: the router's group would otherwise resume
where the last run left it, and intake would find last run's tickets already submitted.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid

from aiokafka import AIOKafkaConsumer

from deploy.local import stack as local_stack
from runtime.service import start_consumer
from schemas.topics import INTAKE_GRID

WARM_SECONDS = 60.0


def fresh_stack() -> tuple[local_stack.Stack, float]:
    """Stop the bench stack if it runs, wipe its data, start it; returns it and the seconds it took."""
    started = time.perf_counter()
    stack = local_stack.stack_for("bench")
    local_stack.down(stack)
    shutil.rmtree(stack.kafka.home / "data", ignore_errors=True)
    if stack.postgres is not None:
        shutil.rmtree(stack.postgres.pgdata, ignore_errors=True)
    local_stack.up(stack)
    return stack, time.perf_counter() - started


async def warm_group_coordinator(bootstrap: str) -> None:
    """Join and leave a throwaway group: on a fresh broker the first join creates __consumer_offsets and
    meets GroupCoordinatorNotAvailable for a while, which is not what the benchmarks are about."""
    consumer = AIOKafkaConsumer(INTAKE_GRID, bootstrap_servers=bootstrap, group_id=f"bench-warm-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False)
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the expected GroupCoordinatorNotAvailable errors
    try:
        async with asyncio.timeout(WARM_SECONDS):
            await start_consumer(consumer)
            fetch = asyncio.ensure_future(consumer.getmany(timeout_ms=int(WARM_SECONDS * 1000), max_records=1))
            try:
                await wait_assigned(consumer)
            finally:
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
    finally:
        quiet.setLevel(level)
        await consumer.stop()


async def wait_assigned(consumer: AIOKafkaConsumer) -> None:
    """Until the consumer holds partitions; aiokafka joins the group in the background once something
    fetches, and offers no event for it to a consumer built elsewhere (the router's), hence the polling."""
    while not consumer.assignment():  # noqa: ASYNC110
        await asyncio.sleep(0.005)
