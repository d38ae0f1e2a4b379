"""Live updates for open pages. The read model's handlers NOTIFY on commit (handlers/events.py); one
listening connection turns each notification into a notice on every subscriber's queue, and the
pages turn notices into fresh queries (server-sent events, adapters/http/events.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

CHANNEL = "console_changes"


@dataclass
class Hub:
    queue_size: int = 500
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    connection: asyncpg.Connection | None = None

    async def listen(self, database_url: str) -> None:
        self.connection = await asyncpg.connect(database_url)
        await self.connection.add_listener(CHANNEL, self._heard)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.publish(json.loads(payload))

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.subscribers.discard(queue)

    def publish(self, notice: dict[str, Any]) -> None:
        """Never blocks: a page too slow to keep up misses notices (it re-queries on the next one anyway)."""
        for queue in self.subscribers:
            if not queue.full():
                queue.put_nowait(notice)
