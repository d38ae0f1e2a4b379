"""What intake left behind: the records on a topic and the rows in its idempotency ledger.

`TopicReader.collect(expect=0)` returns as soon as its first poll is empty, so it cannot prove that
nothing was published. `published` reads every partition up to the end offsets it sees when called;
anything intake acknowledged before that moment is below those offsets, so an empty answer is proof.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg
from aiokafka import TopicPartition

from deploy.local.stack import Stack
from schemas.cloudevents import Envelope
from tests.integration.conftest import open_at_start, readable


async def published(stack: Stack, topic: str, match: Callable[[Envelope], bool]) -> list[Envelope]:
    """Every record of `topic` (up to its current end) that `match` accepts."""
    consumer, tps = await open_at_start(stack.bootstrap, topic)
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        found: list[Envelope] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for records in batch.values():
                found.extend(env for r in records if (env := readable(r)) is not None and match(env))
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return found
    finally:
        await consumer.stop()


def keyed(key: str) -> Callable[[Envelope], bool]:
    return lambda env: env.key == key


def mentioning(text: str) -> Callable[[Envelope], bool]:
    """Records whose key or payload contains `text` (a test's unique id)."""
    return lambda env: text in (env.key or "") or text in env.data.decode(errors="replace")


def payload(env: Envelope) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(env.data)
    return data


async def ledger(stack: Stack, natural_id_part: str) -> list[dict[str, Any]]:
    """Rows of intake's idempotency ledger whose natural id contains `natural_id_part`."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch("SELECT * FROM intake.submissions WHERE natural_id LIKE '%' || $1 || '%'",
                                natural_id_part)
        return [dict(r) for r in rows]
    finally:
        await conn.close()
